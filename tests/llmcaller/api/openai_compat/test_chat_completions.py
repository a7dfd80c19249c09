"""POST /v1/chat/completions over loopback with plain httpx: the wire itself
(stream framing, failures, fallbacks, model names, headers, call records)."""

from __future__ import annotations

import json

import httpx
import pytest

from audit.models import CallRecord
from llmcaller.tokens import issue_token
from providers.models import Capability, Provider
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL
from tests.routing.factories import FallbackChainFactory, FallbackStepFactory
from tests.sandbox import SandboxUpstream

HI = [{"role": "user", "content": "hi"}]


def _events(response: httpx.Response) -> list:
    lines = [line for line in response.text.split("\n\n") if line]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]


def test_every_answer_has_a_request_id_even_a_refusal(api, gateway, provider) -> None:
    answered = api.post("/v1/chat/completions", json={"model": "auto", "messages": HI})
    refused = httpx.post(f"{gateway}/v1/chat/completions", json={}, trust_env=False)
    assert answered.status_code == 200 and answered.headers["x-request-id"]
    assert refused.status_code == 401 and refused.headers["x-request-id"]
    assert refused.json() == {"error": {
        "message": "A valid client token is required.", "type": "authentication_error",
        "param": None, "code": "unauthenticated",
    }}  # fmt: skip


def test_an_unknown_field_is_refused_by_name(api, provider) -> None:
    response = api.post(
        "/v1/chat/completions", json={"model": "auto", "messages": HI, "logit_bias": {}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "logit_bias"
    record = CallRecord.objects.get(trace_id=response.headers["x-request-id"])
    assert (record.door, record.outcome) == ("openai", "invalid_request")


def test_a_failure_after_the_first_chunk_ends_with_an_error_chunk_and_done(
    api, provider, upstream: SandboxUpstream
) -> None:
    upstream.set(break_stream_after=2)
    body = {"model": "auto", "messages": HI, "stream": True}
    response = api.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    events = _events(response)
    assert [e["choices"][0]["delta"].get("content") for e in events[:-1]] == ["Sandbox", " reply"]
    assert events[-1] == {"error": {
        "message": "The provider failed to answer; retry later.", "type": "server_error",
        "param": None, "code": "temporary",
    }}  # fmt: skip
    record = CallRecord.objects.get(trace_id=response.headers["x-request-id"])
    assert (record.method, record.outcome) == ("chatStream", "upstream_error")
    assert record.routing["streamedChars"] == len("Sandbox reply")


def test_before_the_first_chunk_a_stream_falls_back_as_v1_does(
    api, provider: Provider, upstream, secondary_upstream
) -> None:
    backup = ProviderFactory(key="backup", base_url=secondary_upstream.url)
    chain = FallbackChainFactory(name="safety", capability=Capability.CHAT_STREAM)
    primary = provider.models.get(model_id=CHAT_MODEL)
    FallbackStepFactory(chain=chain, position=0, model=primary)
    FallbackStepFactory(
        chain=chain, position=1, model=ModelFactory(provider=backup, model_id=CHAT_MODEL)
    )
    upstream.set(error_status=503)
    body = {"model": "safety", "messages": HI, "stream": True}
    response = api.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert (response.headers["x-llmcaller-provider"], response.headers["x-llmcaller-strategy"]) == (
        "backup", "fallback",
    )  # fmt: skip
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in _events(response))
    assert text == "Sandbox reply to: hi"
    assert upstream.requests()["/v1/chat/completions"] == 2  # tried, and retried once


def test_a_failure_before_the_first_chunk_keeps_its_status(api, provider, upstream) -> None:
    upstream.set(error_status=503)
    body = {"model": "auto", "messages": HI, "stream": True}
    response = api.post("/v1/chat/completions", json=body)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "temporary"


@pytest.mark.parametrize(
    ("name", "status", "param"),
    [
        ("auto:coding", 200, None),
        (f"sandbox/{CHAT_MODEL}", 200, None),
        (CHAT_MODEL, 200, None),
        ("auto:gardening", 400, "model"),
        ("no-such-model", 422, None),
    ],
)
def test_model_names(api, provider, name, status, param) -> None:
    response = api.post("/v1/chat/completions", json={"model": name, "messages": HI})
    assert response.status_code == status
    if status != 200:
        assert response.json()["error"]["param"] == param


def test_response_format_reaches_the_upstream(api, provider) -> None:
    body = {"model": "auto", "messages": HI, "response_format": {"type": "json_object"}}
    response = api.post("/v1/chat/completions", json=body)
    assert response.status_code == 200  # the sandbox (LM Studio) takes it


def test_the_model_list_follows_the_clients_methods(gateway, provider) -> None:
    token = issue_token(client=ClientFactory(allowed_methods=["models", "embed"])).raw
    headers = {"authorization": f"Bearer {token}"}
    listing = httpx.get(f"{gateway}/v1/models", headers=headers, trust_env=False).json()
    ids = {row["id"] for row in listing["data"]}
    assert listing["object"] == "list"
    assert "sandbox/text-embedding-nomic-embed-text-v1.5" in ids
    assert f"sandbox/{CHAT_MODEL}" not in ids


def test_stream_must_be_a_boolean(api, provider) -> None:
    body = {"model": "auto", "messages": HI, "stream": "true"}
    response = api.post("/v1/chat/completions", json=body)
    assert response.status_code == 400 and response.json()["error"]["param"] == "stream"


def test_the_record_takes_the_callers_request_id_and_tool(api, provider) -> None:
    headers = {"x-client-request-id": "client-req-7", "x-llm-caller-tool": "notebook"}
    response = api.post(
        "/v1/chat/completions", json={"model": "auto", "messages": HI}, headers=headers
    )
    record = CallRecord.objects.get(trace_id=response.headers["x-request-id"])
    assert (record.request_id, record.caller_tool, record.client_name) == (
        "client-req-7", "notebook", "tests",
    )  # fmt: skip


@pytest.mark.parametrize("stream", [False, True])
def test_the_route_headers_name_the_configuration_version_that_served_the_call(
    api, provider, stream
) -> None:
    body = {"model": "auto", "messages": HI, "stream": stream}
    response = api.post("/v1/chat/completions", json=body)
    record = CallRecord.objects.get(trace_id=response.headers["x-request-id"])
    assert record.config_version is not None
    assert response.headers["x-llmcaller-config-version"] == str(record.config_version)
    assert response.headers["x-llmcaller-config-hash"] == record.config_hash
