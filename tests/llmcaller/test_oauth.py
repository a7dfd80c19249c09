"""OAuth 2 client credentials, end to end over HTTP: a client's application obtains
a short-lived access token scoped to the client's methods, uses it at every
endpoint, and loses it when it expires or is revoked."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken

from audit.models import ConfigChange
from llmcaller.models import ApiMethod, Client, ClientApplication
from llmcaller.oauth import IssuedApplication, create_application
from llmcaller.tokens import OAUTH_TOKEN_PREFIX
from tests.factories import ClientFactory
from tests.llmcaller.helpers import chat_body, envelope

ALL_METHODS = " ".join(ApiMethod.values)  # what ClientFactory allows


@pytest.fixture
def application(transactional_db) -> IssuedApplication:
    return create_application(client=ClientFactory(tool_id="oauth-tool"))


def obtain(gateway: str, app: IssuedApplication, **form: str) -> httpx.Response:
    return httpx.post(
        f"{gateway}/oauth/token/",
        data={"grant_type": "client_credentials", **form},
        auth=(app.client_id, app.client_secret),
        timeout=10,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def chat(gateway: str, token: str) -> httpx.Response:
    return httpx.post(f"{gateway}/mcp/chat", json=chat_body(), headers=bearer(token), timeout=10)


def test_a_client_obtains_a_short_lived_token_whose_scopes_are_its_methods(gateway, application):
    response = obtain(gateway, application)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert sorted(body["scope"].split()) == sorted(ALL_METHODS.split())
    assert body["access_token"].startswith(OAUTH_TOKEN_PREFIX)
    # Only its checksum is stored, as a static token keeps only its hash.
    assert AccessToken.objects.get().token == ""


def test_an_access_token_is_accepted_at_every_v1_endpoint(gateway, provider, application):
    token = obtain(gateway, application).json()["access_token"]
    embed = envelope(inputs=["a text"])

    with httpx.Client(base_url=gateway, headers=bearer(token), timeout=10) as api:
        assert api.post("/mcp/chat", json=chat_body()).status_code == 200
        with api.stream("POST", "/mcp/chatStream", json=chat_body()) as stream:
            assert stream.status_code == 200
            assert b"[DONE]" in stream.read()
        assert api.post("/mcp/embed", json=embed).status_code == 200
        assert api.get("/mcp/models").status_code == 200
        assert api.get("/health").status_code == 200
    # The static token's header carries it too.
    other = httpx.get(f"{gateway}/health", headers={"x-llm-caller-token": token}, timeout=10)
    assert other.status_code == 200


MCP_HEADERS = {
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2025-11-25",
}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def _openai_and_mcp_answer(gateway: str, token: str) -> list[int]:
    """Statuses of a /v1 model list, a /v1 chat and an MCP tools/list with `token`."""
    with httpx.Client(base_url=gateway, headers=bearer(token), timeout=10) as door:
        chat_completion = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
        return [
            door.get("/v1/models").status_code,
            door.post("/v1/chat/completions", json=chat_completion).status_code,
            door.post("/mcp", json=TOOLS_LIST, headers=MCP_HEADERS).status_code,
        ]


def test_an_access_token_opens_the_openai_door_and_the_mcp_server_until_revoked(
    gateway, provider, application
):
    token = obtain(gateway, application).json()["access_token"]
    assert _openai_and_mcp_answer(gateway, token) == [200, 200, 200]

    revoked = httpx.post(
        f"{gateway}/oauth/revoke/", data={"token": token},
        auth=(application.client_id, application.client_secret), timeout=10,
    )  # fmt: skip

    assert revoked.status_code == 200
    assert _openai_and_mcp_answer(gateway, token) == [401, 401, 401]


def test_an_expired_access_token_is_refused_at_the_openai_door_and_the_mcp_server(
    gateway, provider, application, monkeypatch
):
    token = obtain(gateway, application).json()["access_token"]
    assert _openai_and_mcp_answer(gateway, token) == [200, 200, 200]

    later = timezone.now() + timedelta(seconds=901)
    monkeypatch.setattr("llmcaller.auth.now", lambda: later)

    assert _openai_and_mcp_answer(gateway, token) == [401, 401, 401]


def test_a_token_asked_for_fewer_scopes_may_call_only_those(gateway, provider, application):
    token = obtain(gateway, application, scope="embed").json()["access_token"]

    response = chat(gateway, token)

    assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")


def test_a_scope_beyond_the_clients_methods_is_refused(gateway, transactional_db):
    app = create_application(client=ClientFactory(allowed_methods=["chat"]))

    response = obtain(gateway, app, scope="chat embed")

    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")
    assert obtain(gateway, app).json()["scope"] == "chat"


def test_a_wrong_secret_or_an_inactive_client_gets_no_token(gateway, application):
    wrong = httpx.post(
        f"{gateway}/oauth/token/",
        data={"grant_type": "client_credentials"},
        auth=(application.client_id, "not-the-secret"),
        timeout=10,
    )
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert application.client_secret not in wrong.text

    Client.objects.filter(pk=application.link.client_id).update(active=False)
    refused = obtain(gateway, application)
    assert (refused.status_code, refused.json()["error"]) == (400, "unauthorized_client")
    assert not AccessToken.objects.exists()


def test_a_token_is_refused_once_it_expires(gateway, provider, application, monkeypatch):
    token = obtain(gateway, application).json()["access_token"]
    assert chat(gateway, token).status_code == 200  # its lookup is now cached

    later = timezone.now() + timedelta(seconds=901)
    monkeypatch.setattr("llmcaller.auth.now", lambda: later)

    response = chat(gateway, token)
    assert (response.status_code, response.json()["error"]) == (401, "UNAUTHENTICATED")


def test_a_token_revoked_at_the_revoke_endpoint_is_refused_at_once(gateway, provider, application):
    token = obtain(gateway, application).json()["access_token"]
    assert chat(gateway, token).status_code == 200  # its lookup is now cached

    revoked = httpx.post(
        f"{gateway}/oauth/revoke/",
        data={"token": token, "token_type_hint": "access_token"},
        auth=(application.client_id, application.client_secret),
        timeout=10,
    )

    assert revoked.status_code == 200
    assert chat(gateway, token).status_code == 401


def test_a_token_revoked_in_the_admin_is_refused_at_once(
    gateway, provider, application, admin_client
):
    token = obtain(gateway, application).json()["access_token"]
    assert chat(gateway, token).status_code == 200
    row = AccessToken.objects.get()

    url = reverse("admin:oauth2_provider_accesstoken_changelist")
    action = {"action": "revoke_tokens", "_selected_action": [row.pk]}
    assert admin_client.post(url, action).status_code == 302
    assert not AccessToken.objects.exists()

    assert chat(gateway, token).status_code == 401
    change = ConfigChange.objects.get(action="revoke token")
    assert change.object_repr == "OAuth access token: oauth-tool"
    assert token not in str(change.before)


def test_the_token_endpoint_answers_only_the_allowed_networks(gateway, application, settings):
    settings.LLMCALLER_ALLOWED_NETWORKS = (ip_network("10.0.0.0/8"),)

    response = obtain(gateway, application)

    assert (response.status_code, response.json()["error"]) == (403, "access_denied")


def test_the_admin_creates_an_application_and_shows_its_secret_once(admin_client, transactional_db):
    client = ClientFactory(tool_id="admin-oauth")
    changelist = reverse("admin:llmcaller_client_changelist")

    page = admin_client.post(
        changelist,
        {"action": "create_applications", "_selected_action": [client.pk]},
        follow=True,
    ).content.decode()

    link = ClientApplication.objects.get(client=client)
    assert link.application.client_id in page and "secret" in page
    change = admin_client.get(reverse("admin:llmcaller_client_change", args=[client.pk]))
    text = change.content.decode()
    assert link.application.client_id in text
    assert link.application.client_secret not in text  # the stored hash is never shown
