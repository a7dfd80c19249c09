"""Every way a call ends writes exactly one call record, committed by the time
the caller has its answer (the gateway under uvicorn, against the sandbox)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from audit.models import CallContent, CallRecord, RefusalCount
from audit.types import CallOutcome
from llmcaller.models import Client
from tests.llmcaller.helpers import (
    CHAT_MODEL,
    SlowStreamUpstream,
    chat_body,
    envelope,
    running_asgi,
)


def only_record() -> CallRecord:
    [record] = CallRecord.objects.all()
    return record


def test_a_successful_chat_is_recorded_with_its_route_and_tokens(api, provider):
    response = api.post("/mcp/chat", json=chat_body("hello"))

    record = only_record()  # no wait: the answer left after its record was committed
    assert (record.outcome, record.http_status, record.method) == (CallOutcome.SUCCESS, 200, "chat")
    assert (record.client_name, record.caller_tool, record.request_id) == (
        "tests",
        "tests",
        "req-1",
    )
    assert (record.provider, record.model) == ("sandbox", CHAT_MODEL)
    assert record.trace_id == response.json()["traceId"]
    assert (record.input_tokens, record.output_tokens) == (1, 4)
    assert record.strategy == "capability-default"
    assert [a["outcome"] for a in record.attempts] == ["ok"]
    assert len(record.config_hash) == 64
    assert not CallContent.objects.exists()  # the client did not opt in


def test_a_completed_stream_is_recorded_before_done_with_time_to_first_token(api, provider):
    with api.stream("POST", "/mcp/chatStream", json=chat_body("hello")) as response:
        for line in response.iter_lines():
            if line == "data: [DONE]":
                record = only_record()  # committed before [DONE] was sent

    assert (record.outcome, record.method) == (CallOutcome.SUCCESS, "chatStream")
    assert record.ttft_ms is not None and 0 <= record.ttft_ms <= record.latency_ms
    assert record.routing["streamedChars"] == len("Sandbox reply to: hello")


def test_an_upstream_failure_after_retries_is_one_record(api, provider, upstream):
    upstream.set(error_status=503)

    response = api.post("/mcp/chat", json=chat_body())

    assert response.status_code == 503
    record = only_record()
    assert (record.outcome, record.error_class) == (CallOutcome.UPSTREAM_ERROR, "TEMPORARY")
    assert (record.provider, record.model) == ("sandbox", CHAT_MODEL)  # where it failed
    assert [a["outcome"] for a in record.attempts] == ["TEMPORARY", "TEMPORARY"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({"x-llm-caller-token": "not-a-token-at-all"}, "token unknown"), ({}, "token missing")],
)
def test_a_caller_refused_before_authentication_is_counted_not_recorded(
    gateway, provider, headers, reason, settings
):
    settings.AUDIT_REFUSAL_FLUSH_SECONDS = 0

    response = httpx.post(f"{gateway}/mcp/chat", json=chat_body(), headers=headers)

    assert response.status_code == 401
    assert not CallRecord.objects.exists()
    refusal = RefusalCount.objects.get()
    assert (refusal.source_address, refusal.reason, refusal.method, refusal.count) == (
        "127.0.0.1", reason, "chat", 1,
    )  # fmt: skip


def test_a_forbidden_method_is_one_record(api, provider):
    Client.objects.filter(tool_id="tests").update(allowed_methods=["chat"])

    assert api.post("/mcp/embed", json=envelope(inputs=["a"])).status_code == 403
    record = only_record()
    assert (record.outcome, record.error_class, record.method) == (
        CallOutcome.REJECTED_AUTH, "FORBIDDEN", "embed",
    )  # fmt: skip


def test_an_invalid_request_is_one_record(api, provider):
    assert api.post("/mcp/chat", json=chat_body(colour="blue")).status_code == 400
    assert only_record().outcome == CallOutcome.INVALID_REQUEST


@pytest.mark.usefixtures("clock")  # both calls in one minute's window
def test_a_call_over_the_rate_limit_is_one_record_each(api, provider):
    Client.objects.filter(tool_id="tests").update(requests_per_minute=1)

    statuses = [api.post("/mcp/chat", json=chat_body()).status_code for _ in range(2)]

    assert statuses == [200, 429]
    outcomes = sorted(CallRecord.objects.values_list("outcome", flat=True))
    assert outcomes == [CallOutcome.REJECTED_LIMIT, CallOutcome.SUCCESS]


def test_a_client_gone_mid_stream_is_recorded_as_such(api, provider):
    slow = SlowStreamUpstream(interval=0.05)
    with running_asgi(slow) as url:
        provider.base_url = url
        provider.save()  # publishes a new active version
        with api.stream("POST", "/mcp/chatStream", json=chat_body()) as response:
            next(response.iter_bytes())
        assert slow.closed.wait(timeout=5)

    record = _wait_for_record()
    assert record.outcome == CallOutcome.CLIENT_GONE
    assert record.routing["streamedChars"] > 0  # the partial answer's length


def test_a_client_gone_before_a_chat_answer_is_recorded_as_such(api, provider, upstream):
    upstream.set(latency_ms=3000)

    with pytest.raises(httpx.ReadTimeout):
        api.post("/mcp/chat", json=chat_body(), timeout=0.5)  # hangs up after 0.5 s

    record = _wait_for_record()
    assert (record.outcome, record.http_status) == (CallOutcome.CLIENT_GONE, 499)
    assert record.latency_ms < 2500  # the call stopped when its client left


def test_a_spent_token_budget_refuses_the_next_call_until_it_resets(api, provider, clock):
    Client.objects.filter(tool_id="tests").update(daily_token_budget=5)
    clock.set(datetime(2026, 6, 15, 23, 59, 30, tzinfo=UTC))  # half a minute before it resets

    first = api.post("/mcp/chat", json=chat_body("hello"))  # 1 + 4 tokens: the budget
    second = api.post("/mcp/chat", json=chat_body("hello"))

    assert first.status_code == 200
    assert second.status_code == 429
    body = second.json()
    assert body["error"] == "RATE_LIMIT" and "budget is spent" in body["message"]
    assert "It resets at 2026-06-16 00:00 UTC." in body["message"]
    assert second.headers["Retry-After"] == "30" and body["retryAfterMs"] == 30_000
    assert CallRecord.objects.filter(outcome=CallOutcome.REJECTED_BUDGET).count() == 1

    clock.advance(30)  # the next UTC day: a fresh budget
    assert api.post("/mcp/chat", json=chat_body("hello")).status_code == 200


def test_an_opted_in_client_keeps_prompt_and_answer_apart_from_the_record(api, provider):
    Client.objects.filter(tool_id="tests").update(keeps_content=True, content_retention_days=7)

    api.post("/mcp/chat", json=chat_body("keep me"))

    content = CallContent.objects.get()
    assert json.loads(content.prompt_text) == [{"role": "user", "content": "keep me"}]
    assert content.response_text == "Sandbox reply to: keep me"


def test_an_opted_in_client_gets_identical_answers_from_the_cache(api, provider, upstream):
    Client.objects.filter(tool_id="tests").update(response_cache_seconds=60)
    body = chat_body("same", temperature=0)

    first, second = (api.post("/mcp/chat", json=body).json() for _ in range(2))

    assert first["message"] == second["message"]
    routing = second["providerInfo"]["routing"]
    assert (first["providerInfo"]["routing"]["cacheHit"], routing["cacheHit"]) == (False, True)
    assert upstream.requests()["/v1/chat/completions"] == 1


def _wait_for_record(seconds: float = 5.0) -> CallRecord:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if CallRecord.objects.exists():
            return only_record()
        time.sleep(0.05)
    raise AssertionError("no call record was written")
