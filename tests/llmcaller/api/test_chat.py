"""POST /mcp/chat over loopback against the sandbox upstream: answers and every error row."""

from __future__ import annotations

import pytest

from tests.factories import ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL, EMBED_MODEL, chat_body


def test_it_answers_with_the_default_model_and_says_how_it_routed(api, provider):
    response = api.post("/mcp/chat", json=chat_body("Hi  there", maxTokens=50, temperature=0.2))

    assert response.status_code == 200
    body = response.json()
    assert body["requestId"] == "req-1"
    assert body["message"] == {"role": "assistant", "content": "Sandbox reply to: Hi there"}
    assert body["usage"] == {"inputTokens": 2, "outputTokens": 5}
    info = body["providerInfo"]
    assert (info["name"], info["model"]) == ("sandbox", CHAT_MODEL)
    routing = info["routing"]
    assert (routing["capability"], routing["strategy"]) == ("chat", "capability-default")
    assert (routing["task"], routing["taskSource"]) == ("general", "classified")
    assert routing["candidates"][0] == {
        "provider": "sandbox", "model": CHAT_MODEL, "strategy": "capability-default",
        "score": None, "skipped": None,
    }  # fmt: skip
    [attempt] = routing["attempts"]
    assert (attempt["provider"], attempt["outcome"], attempt["fault"]) == ("sandbox", "ok", None)
    assert attempt["latencyMs"] > 0
    assert (routing["fallbackReason"], routing["cacheHit"]) == (None, False)
    assert len(routing["configHash"]) == 64
    assert len(body["traceId"]) == 32


def test_a_pinned_provider_and_model_route_as_caller_override(api, provider):
    ProviderFactory(key="aaa-first", base_url="http://127.0.0.1:9")  # would be the default
    body = chat_body(provider="sandbox", model=CHAT_MODEL, maxTokens=2)

    response = api.post("/mcp/chat", json=body)

    assert response.status_code == 200
    assert response.json()["message"]["content"] == "Sandbox reply"  # maxTokens reached upstream
    assert response.json()["providerInfo"]["routing"]["strategy"] == "caller-override"


def test_a_bearer_token_works_like_the_header(gateway, token, provider):
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.post(f"{gateway}/mcp/chat", json=chat_body(), headers=headers, timeout=10)

    assert response.status_code == 200


def test_upstream_throttling_for_an_hour_is_answered_with_a_hint_of_sixty_seconds(
    api, provider, upstream
):
    upstream.set(rate_limit_retry_after=3600)

    response = api.post("/mcp/chat", json=chat_body())

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    body = response.json()
    assert body["error"] == "RATE_LIMIT"
    assert body["retryAfterMs"] == 60000
    assert "Sandbox" not in body["message"]  # never the upstream's text


def test_a_failing_upstream_is_retried_then_answered_as_temporary(api, provider, upstream):
    upstream.set(error_status=503)

    response = api.post("/mcp/chat", json=chat_body())

    assert response.status_code == 503
    assert response.json()["error"] == "TEMPORARY"
    # retry_attempts=1 on the provider: the first try and one retry.
    assert upstream.requests()["/v1/chat/completions"] == 2


def test_a_malformed_upstream_answer_is_temporary(api, provider, upstream):
    upstream.set(malformed=True)

    response = api.post("/mcp/chat", json=chat_body())

    assert (response.status_code, response.json()["error"]) == (503, "TEMPORARY")


def test_an_unreachable_provider_is_temporary(api, provider, down_url):
    provider.base_url = down_url
    provider.save()  # publishes a new active version

    response = api.post("/mcp/chat", json=chat_body())

    assert (response.status_code, response.json()["error"]) == (503, "TEMPORARY")


def test_a_refused_upstream_credential_is_auth(api, provider, upstream):
    upstream.set(require_api_key="secret-the-gateway-lacks")

    response = api.post("/mcp/chat", json=chat_body())

    assert (response.status_code, response.json()["error"]) == (502, "AUTH")
    assert upstream.requests()["/v1/chat/completions"] == 1  # AUTH is not retried


def test_a_model_the_upstream_does_not_know_is_permanent(api, provider):
    provider.models.create(model_id="ghost-model", capabilities=["chat"])

    response = api.post("/mcp/chat", json=chat_body(model="ghost-model"))

    assert (response.status_code, response.json()["error"]) == (422, "PERMANENT")


@pytest.mark.parametrize(
    "pin",
    [{"model": "no-such-model"}, {"provider": "no-such-provider"}, {"model": EMBED_MODEL}],
    ids=["unknown model", "unknown provider", "embeddings model for chat"],
)
def test_a_pin_we_cannot_honour_is_permanent(api, provider, pin):
    response = api.post("/mcp/chat", json=chat_body(**pin))

    assert (response.status_code, response.json()["error"]) == (422, "PERMANENT")


def test_no_provider_at_all_is_a_configuration_error(api):
    response = api.post("/mcp/chat", json=chat_body())

    assert (response.status_code, response.json()["error"]) == (500, "CONFIG")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"requestId": None}, "requestId"),
        ({"requestId": 42}, "requestId"),
        ({"callerTool": ""}, "callerTool"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "x", "name": "n"}]}, "messages[0].name"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"maxTokens": 0}, "maxTokens"),
        ({"maxTokens": "10"}, "maxTokens"),
        ({"task": "gossip"}, "task"),
    ],
)
def test_a_body_that_breaks_the_schema_is_a_bad_request_naming_the_field(
    api, provider, upstream, change, field
):
    body = {**chat_body(), **change}
    if change.get("requestId", "") is None:
        del body["requestId"]

    response = api.post("/mcp/chat", json=body)

    assert response.status_code == 400
    assert response.json()["error"] == "BAD_REQUEST"
    assert response.json()["message"].startswith(f"{field}:")
    assert upstream.requests() == {}


def test_a_timestamp_in_iso_8601_and_a_task_are_accepted(api, provider):
    body = chat_body(timestamp="2026-11-24T10:00:00Z", task="coding")

    assert api.post("/mcp/chat", json=body).status_code == 200


def test_a_body_that_is_not_json_is_a_bad_request(api, provider):
    response = api.post("/mcp/chat", content=b"{not json", headers={"content-type": "text/plain"})

    assert response.status_code == 400
    assert response.json()["message"] == "The request body is not valid JSON."
