"""The published OpenAPI schema describes what the async views really answer.

Real responses from the gateway are validated against the components the schema
at /api/schema/ names for each operation, so a view and its schema shim cannot
drift apart unnoticed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from jsonschema import Draft202012Validator, ValidationError

from llmcaller.models import Client
from llmcaller.tokens import issue_token
from providers.models import Capability
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL, chat_body, envelope
from tests.routing.factories import (
    CapabilityScoreFactory,
    FallbackChainFactory,
    FallbackStepFactory,
    FaultRuleFactory,
)

STAFF = ("staff", "a-long-staff-password")


@pytest.fixture
def staff(transactional_db) -> tuple[str, str]:
    get_user_model().objects.create_user(STAFF[0], password=STAFF[1], is_staff=True)
    return STAFF


@pytest.fixture
def schema(gateway: str, staff: tuple[str, str]) -> dict[str, Any]:
    url = f"{gateway}/api/schema/"
    response = httpx.get(url, params={"format": "json"}, auth=staff, timeout=10)
    assert response.status_code == 200
    return response.json()


def test_the_schema_needs_a_credential_and_the_docs_a_staff_one(gateway, token):
    for path in ("/api/schema/", "/api/docs/"):
        assert httpx.get(f"{gateway}{path}", timeout=10).status_code in (401, 403)
    wrong = {"Authorization": "Bearer llmc_not-a-token"}
    assert httpx.get(f"{gateway}/api/schema/", headers=wrong, timeout=10).status_code == 401
    client = {"x-llm-caller-token": token}
    assert httpx.get(f"{gateway}/api/docs/", headers=client, timeout=10).status_code in (401, 403)


def test_any_client_with_a_valid_token_may_fetch_the_schema(gateway, transactional_db):
    # Not staff, and allowed one method only: the schema is for every client.
    raw = issue_token(client=ClientFactory(tool_id="fuzzer", allowed_methods=["chat"])).raw
    for headers in ({"x-llm-caller-token": raw}, {"Authorization": f"Bearer {raw}"}):
        response = httpx.get(f"{gateway}/api/schema/", params={"format": "json"},
                             headers=headers, timeout=10)  # fmt: skip
        assert response.status_code == 200
        assert "/mcp/chat" in response.json()["paths"]


def _request_schema(schema: dict[str, Any], path: str) -> Draft202012Validator:
    content = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return Draft202012Validator({"components": schema["components"], **content["schema"]})


def _chat(**fields: Any) -> dict[str, Any]:
    return {**chat_body(), **fields}


def _embed(**fields: Any) -> dict[str, Any]:
    return {**envelope(inputs=["a"]), **fields}


REQUESTS = [
    ("/mcp/chat", _chat()),
    ("/mcp/chat", _chat(requestId="")),
    ("/mcp/chat", _chat(requestId="   ")),
    ("/mcp/chat", _chat(requestId=" padded ")),
    ("/mcp/chat", _chat(callerTool="")),
    ("/mcp/chat", _chat(callerTool="nul\u0000")),
    ("/mcp/chat", _chat(messages=[])),
    ("/mcp/chat", _chat(messages=[{"role": "user", "content": ""}])),
    ("/mcp/chat", _chat(messages=[{"role": "user", "content": "a\u0000b"}])),
    ("/mcp/chat", _chat(messages=[{"role": "user", "content": "hi", "name": "x"}])),
    ("/mcp/chat", _chat(model="")),
    ("/mcp/chat", _chat(temperature=2)),
    ("/mcp/chat", _chat(temperature=2.5)),
    ("/mcp/chat", _chat(maxTokens=0)),
    ("/mcp/chat", _chat(surprise=True)),
    ("/mcp/embed", _embed()),
    ("/mcp/embed", _embed(inputs=[])),
    ("/mcp/embed", _embed(inputs=[""])),
    ("/mcp/embed", _embed(inputs=["a\u0000"])),
    ("/mcp/embed", _embed(requestId="")),
    ("/mcp/embed", _embed(provider="")),
]


def test_a_request_is_valid_by_the_schema_exactly_when_the_api_accepts_it(api, provider, schema):
    outcomes = []
    for path, body in REQUESTS:
        valid = _request_schema(schema, path).is_valid(body)
        status = api.post(path, json=body).status_code
        outcomes.append((path, body, valid, status))

    # Valid by the schema exactly when validation accepts it (not 400); what the
    # upstream then answers is not the schema's business.
    assert [(p, b, v, s) for p, b, v, s in outcomes if v != (s != 400)] == []
    assert {s == 400 for *_, s in outcomes} == {True, False}  # both kinds were tried


def _validate(schema: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    content = schema["paths"][path][method]["responses"][str(status)]["content"]
    (media,) = content.values()
    document = {"components": schema["components"], **media["schema"]}
    Draft202012Validator(document).validate(body)


def test_every_api_path_is_published_with_its_v1_operation_id(schema):
    operations = {
        path: [op["operationId"] for op in item.values()] for path, item in schema["paths"].items()
    }

    assert operations == {
        "/health": ["getHealth"],
        "/mcp/chat": ["chat"],
        "/mcp/chatStream": ["chatStream"],
        "/mcp/embed": ["embed"],
        "/mcp/models": ["models"],
        "/v1/chat/completions": ["openaiChatCompletions"],
        "/v1/embeddings": ["openaiEmbeddings"],
        "/v1/models": ["openaiModels"],
        "/v1/responses": ["openaiResponses"],
    }
    stream = schema["paths"]["/mcp/chatStream"]["post"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]


def test_real_answers_match_the_schema(api, provider, schema):
    _validate(schema, "/mcp/chat", "post", 200, api.post("/mcp/chat", json=chat_body()).json())
    embed = api.post("/mcp/embed", json=envelope(inputs=["a"])).json()
    _validate(schema, "/mcp/embed", "post", 200, embed)
    _validate(schema, "/mcp/models", "get", 200, api.get("/mcp/models").json())
    _validate(schema, "/health", "get", 200, api.get("/health").json())


@pytest.mark.parametrize(
    "where", [(), ("message",), ("usage",), ("providerInfo",)], ids=lambda w: ".".join(w) or "top"
)
def test_a_field_the_contract_does_not_name_breaks_the_schema(api, provider, schema, where):
    answer = api.post("/mcp/chat", json=chat_body()).json()
    _validate(schema, "/mcp/chat", "post", 200, answer)
    extra = copy.deepcopy(answer)
    target = extra
    for key in where:
        target = target[key]
    target["surprise"] = 1

    with pytest.raises(ValidationError, match="surprise"):
        _validate(schema, "/mcp/chat", "post", 200, extra)


def test_every_stream_event_matches_the_schema(api, provider, upstream, schema):
    ok = api.post("/mcp/chatStream", json=chat_body()).content
    upstream.set(break_stream_after=1)
    broken = api.post("/mcp/chatStream", json=chat_body()).content
    events = [
        json.loads(line[len(b"data: ") :])
        for line in (ok + broken).split(b"\n\n")
        if line and line != b"data: [DONE]"
    ]

    assert {"delta", "completion", None} == {e.get("type") for e in events}
    for event in events:
        _validate(schema, "/mcp/chatStream", "post", 200, event)


@pytest.fixture
def fallback(provider, upstream, secondary_upstream, settings) -> None:
    """A route that fills every optional routing field: the default `sandbox`
    fails, a chain falls back to `backup` (through a rehearsed fault); a better
    scored model was skipped because it is switched off."""
    settings.LLMCALLER_FAULTS_ENABLED = True
    backup = ProviderFactory(key="backup", base_url=secondary_upstream.url)
    primary = provider.models.get(model_id=CHAT_MODEL)
    secondary = ModelFactory(provider=backup, model_id=CHAT_MODEL)
    switched_off = ModelFactory(provider=provider, model_id="switched-off", enabled=False)
    for capability in (Capability.CHAT, Capability.CHAT_STREAM):
        CapabilityScoreFactory(model=primary, capability=capability, score=80)
        CapabilityScoreFactory(model=switched_off, capability=capability, score=90)
        chain = FallbackChainFactory(name=f"safety-{capability}", capability=capability,
                                     is_default=True)  # fmt: skip
        for position, model in enumerate((primary, secondary)):
            FallbackStepFactory(chain=chain, position=position, model=model)
    # A fault on a stream also breaks it after `break_after` events: not this one.
    FaultRuleFactory(name="rehearsal", provider=backup, kind="LATENCY", latency_ms=1,
                     break_after=1000)  # fmt: skip
    upstream.set(error_status=503)


def _assert_every_optional_field_is_filled(routing: dict[str, Any]) -> None:
    # Null and empty values pass the schema trivially: this route must fill them.
    assert routing["strategy"] == "fallback" and routing["chain"]
    assert routing["fallbackReason"] and routing["taskReasons"]
    assert {c["score"] for c in routing["candidates"]} - {None}
    assert {c["skipped"] for c in routing["candidates"]} - {None}
    assert [a["fault"] for a in routing["attempts"]][-1] == "rehearsal"


def test_a_fallback_answer_matches_the_schema(api, fallback, schema):
    body = chat_body("Fix the bug in this Python function: def f(): return x")
    answer = api.post("/mcp/chat", json=body).json()
    events = api.post("/mcp/chatStream", json=body).content.split(b"\n\n")
    completion = json.loads(events[-3][len(b"data: ") :])

    _assert_every_optional_field_is_filled(answer["providerInfo"]["routing"])
    _validate(schema, "/mcp/chat", "post", 200, answer)
    assert completion["type"] == "completion"
    _assert_every_optional_field_is_filled(completion["payload"]["providerInfo"]["routing"])
    _validate(schema, "/mcp/chatStream", "post", 200, completion)


def test_an_answer_from_the_response_cache_matches_the_schema(api, provider, schema):
    Client.objects.filter(tool_id="tests").update(response_cache_seconds=60)
    body = chat_body(temperature=0)  # only deterministic answers are cached
    api.post("/mcp/chat", json=body)
    hit = api.post("/mcp/chat", json=body).json()

    assert hit["providerInfo"]["routing"]["cacheHit"] is True
    _validate(schema, "/mcp/chat", "post", 200, hit)


def test_errors_match_the_schema(api, gateway, provider, upstream, schema):
    bad = api.post("/mcp/chat", json={**chat_body(), "extra": 1})
    anonymous = httpx.post(f"{gateway}/mcp/chat", json=chat_body(), timeout=10)
    upstream.set(rate_limit_retry_after=7)
    throttled = api.post("/mcp/chat", json=chat_body())

    for response in (bad, anonymous, throttled):
        _validate(schema, "/mcp/chat", "post", response.status_code, response.json())
    assert throttled.json()["retryAfterMs"] == 7000


def test_the_swagger_ui_is_served_with_local_assets(gateway, staff):
    page = httpx.get(f"{gateway}/api/docs/", auth=staff, timeout=10)

    assert page.status_code == 200
    assert "cdn.jsdelivr.net" not in page.text
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page.text
    asset = httpx.get(f"{gateway}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert asset.status_code == 200


def test_the_openai_door_publishes_the_constraints_its_inputs_enforce(schema):
    body = schema["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    request = schema["components"]["schemas"][ref]

    # The view refuses unknown fields and an empty message list: so does the schema.
    assert request["additionalProperties"] is False
    assert request["properties"]["messages"]["minItems"] == 1
    assert set(request["required"]) >= {"model", "messages"}


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/v1/chat/completions", ("max_tokens", "max_completion_tokens")),
        ("/v1/responses", ("max_output_tokens",)),
    ],
)
def test_the_openai_door_publishes_the_v1_bound_on_max_tokens(schema, settings, path, fields):
    body = schema["paths"][path]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][ref]["properties"]

    for field in fields:
        assert (properties[field]["minimum"], properties[field]["maximum"]) == (
            1, settings.LLMCALLER_MAX_TOKENS_LIMIT,
        )  # fmt: skip
