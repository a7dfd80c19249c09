"""Who may call: tokens, methods, addresses, and what a refusal leaves in the log."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from llmcaller.models import Client, ClientToken
from llmcaller.tokens import hash_token, issue_token, revoke_tokens
from tests.factories import ClientFactory
from tests.llmcaller.helpers import chat_body

ROOT = Path(__file__).resolve().parents[2]


def _chat(gateway: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{gateway}/mcp/chat", json=chat_body(), headers=headers, timeout=10)


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-llm-caller-token": "llmc_unknown"}, {"Authorization": "Basic abc"}],
    ids=["missing", "unknown", "not bearer"],
)
def test_no_valid_token_is_unauthenticated(gateway, provider, headers):
    response = _chat(gateway, headers)

    assert (response.status_code, response.json()["error"]) == (401, "UNAUTHENTICATED")


def test_a_revoked_token_is_refused_at_once(gateway, provider):
    issued = issue_token(client=ClientFactory())
    headers = {"x-llm-caller-token": issued.raw}
    assert _chat(gateway, headers).status_code == 200  # now cached as valid

    revoke_tokens(tokens=[issued.token])

    assert _chat(gateway, headers).status_code == 401


def test_an_expired_token_or_an_inactive_client_is_refused(gateway, provider):
    expired = issue_token(client=ClientFactory(), expires_in_days=1)
    ClientToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    inactive = issue_token(client=ClientFactory(active=False))

    assert _chat(gateway, {"x-llm-caller-token": expired.raw}).status_code == 401
    assert _chat(gateway, {"x-llm-caller-token": inactive.raw}).status_code == 401


def test_a_method_the_client_may_not_call_is_forbidden(gateway, provider):
    issued = issue_token(client=ClientFactory(allowed_methods=["embed"]))

    response = _chat(gateway, {"x-llm-caller-token": issued.raw})

    assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")


def test_several_live_tokens_serve_one_client_for_rotation(gateway, provider):
    client = ClientFactory()
    old, new = issue_token(client=client), issue_token(client=client)

    assert _chat(gateway, {"x-llm-caller-token": old.raw}).status_code == 200
    assert _chat(gateway, {"x-llm-caller-token": new.raw}).status_code == 200


def test_last_used_is_written_on_use(gateway, provider, token):
    _chat(gateway, {"x-llm-caller-token": token})

    assert ClientToken.objects.get(token_hash=hash_token(token)).last_used_at is not None


def test_forwarded_for_is_ignored_without_trusted_proxies(gateway, provider, token):
    headers = {"x-llm-caller-token": token, "X-Forwarded-For": "203.0.113.9"}

    assert _chat(gateway, headers).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_decides(gateway, provider, token, settings):
    settings.LLMCALLER_TRUSTED_PROXIES = (ip_network("127.0.0.0/8"),)
    outside = {"x-llm-caller-token": token, "X-Forwarded-For": "203.0.113.9"}
    inside = {"x-llm-caller-token": token, "X-Forwarded-For": "203.0.113.9, 127.0.0.5"}

    assert _chat(gateway, outside).status_code == 403
    # The proxy chain's last untrusted hop is the caller; 127.0.0.5 is a trusted proxy.
    assert _chat(gateway, inside).status_code == 403
    settings.LLMCALLER_ALLOWED_NETWORKS = (ip_network("203.0.113.0/24"),)
    assert _chat(gateway, outside).status_code == 200


def test_a_caller_outside_the_allowed_networks_is_forbidden(gateway, provider, token, settings):
    settings.LLMCALLER_ALLOWED_NETWORKS = (ip_network("10.0.0.0/8"),)

    response = _chat(gateway, {"x-llm-caller-token": token})

    assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")


def test_failures_are_counted_and_logged_with_a_fingerprint_never_the_token(
    gateway, provider, caplog
):
    secret = "llmc_this-is-not-a-known-token"
    with caplog.at_level(logging.WARNING, logger="llmcaller.auth"):
        _chat(gateway, {"x-llm-caller-token": secret})
        _chat(gateway, {"x-llm-caller-token": secret})

    lines = [r.getMessage() for r in caplog.records if r.name == "llmcaller.auth"]
    assert len(lines) == 2
    assert all(secret not in line for line in lines)
    assert f"token={hash_token(secret)[:12]}" in lines[1]
    assert "failures=2" in lines[1]


@pytest.mark.django_db
def test_only_the_hash_and_a_display_prefix_are_stored():
    issued = issue_token(client=ClientFactory())

    row = ClientToken.objects.get(pk=issued.token.pk)
    assert row.token_hash == hash_token(issued.raw) != issued.raw
    assert issued.raw.startswith(row.prefix) and len(row.prefix) < len(issued.raw) // 3


def test_issue_token_prints_the_token_alone(transactional_db, tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{database}"}
    run = [sys.executable, "manage.py"]
    subprocess.run([*run, "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    result = subprocess.run(
        [*run, "issue_token", "reporting", "--methods", "chat,models", "--create"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.startswith("llmc_")
    refused = subprocess.run(
        [*run, "issue_token", "ghost", "--methods", "chat"], cwd=ROOT, env=env, capture_output=True
    )
    assert refused.returncode != 0


@pytest.mark.django_db
def test_the_admin_action_shows_a_new_token_once(admin_client):
    client = ClientFactory(tool_id="reporting")

    response = admin_client.post(
        "/admin/llmcaller/client/",
        {"action": "issue_tokens", "_selected_action": [client.pk]},
        follow=True,
    )

    token = ClientToken.objects.get(client=client)
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and token.prefix in shown[0]
    raw = shown[0].rsplit(" ", 1)[1]
    assert hash_token(raw) == token.token_hash
    page = admin_client.get(f"/admin/llmcaller/client/{client.pk}/change/").content.decode()
    assert token.prefix in page and token.token_hash not in page and raw not in page
    assert Client.objects.get(pk=client.pk).tokens.count() == 1
