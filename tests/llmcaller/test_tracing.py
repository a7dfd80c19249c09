"""Traces, seen by the OpenTelemetry SDK's in-memory exporter: one trace per call
with the call's span under the caller's `traceparent`, a span per upstream attempt
(its context arrives upstream as `traceparent`) and the call record's write."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from audit.models import CallRecord
from tests.factories import ModelFactory, ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL, chat_body, running_asgi
from tests.sandbox import BASE_DIR


class RecordingUpstream:
    """An OpenAI-style upstream that keeps every request's headers; it answers 503
    to its first `failures` chat requests, then a completion (or a stream)."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while (message := await receive())["type"] == "http.request":
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        if len(self.headers) <= self.failures:
            await _answer(send, 503, b"{}", b"application/json")
        elif json.loads(body or b"{}").get("stream"):
            chunks = [{"choices": [{"delta": {"content": "hi"}}]}, {"choices": [], "usage": {}}]
            lines = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
            await _answer(send, 200, lines + b"data: [DONE]\n\n", b"text/event-stream")
        else:
            answer = {"model": CHAT_MODEL, "choices": [{"message": {"content": "hi"}}]}
            await _answer(send, 200, json.dumps(answer).encode(), b"application/json")


async def _answer(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="session")
def exporter() -> InMemorySpanExporter:
    # The global provider can be set once per process: one for the whole session.
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture
def spans(exporter, settings) -> Iterator[InMemorySpanExporter]:
    settings.LLMCALLER_TRACING_ENABLED = True
    exporter.clear()
    yield exporter
    exporter.clear()


@pytest.fixture
def listener(transactional_db) -> Iterator[RecordingUpstream]:
    upstream = RecordingUpstream(failures=1)
    with running_asgi(upstream) as url:
        provider = ProviderFactory(key="listener", base_url=url, retry_attempts=1)
        ModelFactory(provider=provider, model_id=CHAT_MODEL)
        yield upstream


def caller_traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def hex_ids(span: ReadableSpan) -> tuple[str, str, str | None]:
    parent = format(span.parent.span_id, "016x") if span.parent else None
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x"), parent


def test_call_attempt_and_audit_spans_share_the_callers_trace(api, listener, spans):
    header, trace_id, caller_span = caller_traceparent()

    response = api.post("/mcp/chat", json=chat_body(), headers={"traceparent": header})

    assert response.status_code == 200
    assert response.json()["traceId"] == trace_id  # the caller's trace, in the answer
    finished = spans.get_finished_spans()
    (call,) = [s for s in finished if s.name == "v1 chat"]
    attempts = [s for s in finished if s.name == "upstream attempt"]
    (audit,) = [s for s in finished if s.name == "audit write"]
    call_trace, call_span, call_parent = hex_ids(call)
    assert (call_trace, call_parent, call.kind) == (trace_id, caller_span, SpanKind.SERVER)
    assert len(attempts) == 2  # the 503, then the retry that answered
    for span in [*attempts, audit]:
        assert hex_ids(span)[0] == trace_id and hex_ids(span)[2] == call_span
    assert attempts[0].status.status_code is StatusCode.ERROR
    assert attempts[0].attributes["llmcaller.error_class"] == "TEMPORARY"
    assert call.attributes["llmcaller.outcome"] == "success"
    assert CallRecord.objects.get().trace_id == trace_id
    # Each upstream request carried its own attempt's context.
    sent = [h["traceparent"] for h in listener.headers]
    assert sent == [f"00-{trace_id}-{hex_ids(span)[1]}-01" for span in attempts]


def test_a_stream_ends_its_call_span_when_the_stream_ends(api, listener, spans):
    header, trace_id, caller_span = caller_traceparent()

    with api.stream("POST", "/mcp/chatStream", json=chat_body(),
                    headers={"traceparent": header}) as stream:  # fmt: skip
        assert b"[DONE]" in stream.read()

    finished = spans.get_finished_spans()
    (call,) = [s for s in finished if s.name == "v1 chatStream"]
    assert hex_ids(call)[0::2] == (trace_id, caller_span)
    names = sorted(s.name for s in finished if hex_ids(s)[2] == hex_ids(call)[1])
    assert names == ["audit write", "upstream attempt", "upstream attempt"]


def test_a_call_without_traceparent_starts_its_own_trace(api, listener, spans):
    response = api.post("/mcp/chat", json=chat_body())

    (call,) = [s for s in spans.get_finished_spans() if s.name == "v1 chat"]
    assert call.parent is None
    assert response.json()["traceId"] == hex_ids(call)[0]


def test_with_tracing_off_nothing_is_traced_or_sent_upstream(api, listener, exporter, settings):
    settings.LLMCALLER_TRACING_ENABLED = False
    exporter.clear()
    header, trace_id, _ = caller_traceparent()

    response = api.post("/mcp/chat", json=chat_body(), headers={"traceparent": header})

    assert response.status_code == 200 and response.json()["traceId"] != trace_id
    assert exporter.get_finished_spans() == ()
    assert all("traceparent" not in h for h in listener.headers)


class OtlpCollector:
    """A loopback OTLP/HTTP collector: keeps each export's path, type and body."""

    def __init__(self) -> None:
        self.exports: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while (message := await receive())["type"] == "http.request":
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.exports.append((scope["path"], headers.get("content-type", ""), body))
        await _answer(send, 200, b"", b"application/x-protobuf")


def test_a_configured_gateway_exports_its_spans_over_otlp_http():
    collector = OtlpCollector()
    script = (
        "import django; django.setup()\n"
        "from providers.tracing import child_span, configure_tracing, shutdown_tracing\n"
        "configure_tracing()\n"
        "with child_span('exported attempt'):\n"
        "    pass\n"
        "shutdown_tracing()\n"
    )
    with running_asgi(collector) as url:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "llmcaller.settings",
               "LLMCALLER_TRACING_ENABLED": "true",
               "LLMCALLER_OTLP_ENDPOINT": f"{url}/v1/traces"}  # fmt: skip
        subprocess.run([sys.executable, "-c", script], env=env, cwd=BASE_DIR, check=True,
                       timeout=60)  # fmt: skip

    (path, content_type, body) = collector.exports[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    assert b"exported attempt" in body and b"llm-caller" in body  # span and service names
