"""Each way a call is refused leaves a record QA can read: classified by what
happened, with the message the caller got, its requestId, callerTool, source
address and token prefix; refusals before authentication are counted per minute
(the gateway under uvicorn, against the sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from audit.models import CallRecord, RefusalCount
from audit.refusals import count_refusal, flush_refusals
from audit.types import CallDoor, CallOutcome
from llmcaller.models import Client
from tests.llmcaller.helpers import CHAT_MODEL, chat_body, envelope


def _record_after(response: httpx.Response) -> CallRecord:
    [record] = CallRecord.objects.all()
    assert record.message == response.json()["message"]  # what the caller was told
    assert (record.request_id, record.caller_tool) == ("req-1", "tests")
    assert (record.door, record.source_address) == (CallDoor.V1, "127.0.0.1")
    assert record.token_prefix.startswith("llmc_")
    return record


def test_a_forbidden_method_is_an_auth_refusal_with_its_ids(api, provider):
    Client.objects.filter(tool_id="tests").update(allowed_methods=["chat"])

    response = api.post("/mcp/embed", json=envelope(inputs=["a"]))

    record = _record_after(response)
    assert (record.outcome, record.error_class, record.client_name) == (
        CallOutcome.REJECTED_AUTH, "FORBIDDEN", "tests",
    )  # fmt: skip


def test_an_invalid_field_is_a_validation_refusal_that_keeps_the_ids(api, provider):
    response = api.post("/mcp/chat", json=chat_body(colour="blue"))

    record = _record_after(response)
    assert (record.outcome, record.error_class) == (CallOutcome.INVALID_REQUEST, "BAD_REQUEST")
    assert "colour" in record.message


@pytest.mark.usefixtures("clock")  # both calls in one minute's window
def test_a_call_over_the_client_limit_is_a_rate_limit_refusal(api, provider):
    Client.objects.filter(tool_id="tests").update(requests_per_minute=1)
    api.post("/mcp/chat", json=chat_body())
    CallRecord.objects.all().delete()

    record = _record_after(api.post("/mcp/chat", json=chat_body()))

    assert (record.outcome, record.error_class) == (CallOutcome.REJECTED_LIMIT, "RATE_LIMIT")


@pytest.mark.usefixtures("clock")  # both calls on one budget day
def test_a_spent_budget_is_a_budget_refusal(api, provider):
    Client.objects.filter(tool_id="tests").update(daily_token_budget=1)
    api.post("/mcp/chat", json=chat_body())
    CallRecord.objects.all().delete()

    record = _record_after(api.post("/mcp/chat", json=chat_body()))

    assert (record.outcome, record.error_class) == (CallOutcome.REJECTED_BUDGET, "RATE_LIMIT")
    assert "budget is spent" in record.message


def test_a_pin_to_a_model_we_do_not_have_is_a_routing_refusal_with_its_plan(
    api, provider, upstream
):
    response = api.post("/mcp/chat", json=chat_body(provider="sandbox", model="not-loaded"))

    assert response.status_code == 422
    record = _record_after(response)
    assert (record.outcome, record.error_class) == (CallOutcome.NO_ROUTE, "PERMANENT")
    assert "not in the configuration" in record.message
    assert record.routing["candidates"][0]["model"] == "not-loaded"
    assert upstream.requests().get("/v1/chat/completions", 0) == 0  # nobody was asked


def test_an_upstream_failure_is_an_upstream_error_with_its_attempts(api, provider, upstream):
    upstream.set(error_status=503)

    record = _record_after(api.post("/mcp/chat", json=chat_body()))

    assert (record.outcome, record.error_class) == (CallOutcome.UPSTREAM_ERROR, "TEMPORARY")
    assert record.message == "The provider failed to answer; retry later."
    assert (record.provider, record.model) == ("sandbox", CHAT_MODEL)


def test_an_address_over_its_limit_is_refused_before_its_token_is_read(
    api, provider, settings, monkeypatch
):
    settings.LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE = 2
    settings.AUDIT_REFUSAL_FLUSH_SECONDS = 0
    monkeypatch.setattr("llmcaller.auth._clock", lambda: 1_800_000_000.0)  # one window

    statuses = [api.post("/mcp/chat", json=chat_body()).status_code for _ in range(4)]

    assert statuses == [200, 200, 429, 429]
    assert CallRecord.objects.count() == 2  # the refused ones are counted, not chained
    refusal = RefusalCount.objects.get()
    assert (refusal.reason, refusal.count, refusal.source_address) == (
        "address over limit", 2, "127.0.0.1",
    )  # fmt: skip
    assert refusal.token_prefix.startswith("llmc_") and len(refusal.token_prefix) == 13


def test_a_refused_address_is_counted_with_its_source(gateway, provider, settings):
    from ipaddress import ip_network

    settings.LLMCALLER_ALLOWED_NETWORKS = [ip_network("10.0.0.0/8")]
    settings.AUDIT_REFUSAL_FLUSH_SECONDS = 0

    assert httpx.post(f"{gateway}/mcp/chat", json=chat_body()).status_code == 403

    assert not CallRecord.objects.exists()
    assert RefusalCount.objects.get().reason == "address refused"


@pytest.mark.django_db
def test_refusals_are_summed_per_minute_and_key_between_flushes(settings):
    settings.AUDIT_REFUSAL_FLUSH_SECONDS = 3600  # nothing is due: all stay pending
    flush_refusals()
    minute = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for second in (1, 20, 59):
        count_refusal(at=minute.replace(second=second), source="10.1.1.1", reason="token unknown")
    count_refusal(at=minute.replace(minute=1), source="10.1.1.1", reason="token unknown")
    assert not RefusalCount.objects.exists()  # counted in memory, not written per request

    assert flush_refusals() == 4
    count_refusal(at=minute, source="10.1.1.1", reason="token unknown")
    flush_refusals()

    counts = dict(RefusalCount.objects.values_list("minute__minute", "count"))
    assert counts == {0: 4, 1: 1}
