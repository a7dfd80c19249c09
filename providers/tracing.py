"""OpenTelemetry traces of calls, when `LLMCALLER_TRACING_ENABLED` is on.

One trace per call: the call's span (its parent, when the caller sent a W3C
`traceparent`, is the caller's span), a span per upstream attempt, whose
context goes upstream as `traceparent`, and a span for the call record's
write. Spans go to an OTLP/HTTP collector (`LLMCALLER_OTLP_ENDPOINT`) in
batches, off the event loop. Spans carry names and error classes, never
prompts, answers, tokens or upstream text.

This module lives in `providers` because the layers above (routing, the
transport) may import it and the upstream request is where the context leaves.
With tracing off every helper returns at its first line, so the hot path pays
a few attribute reads. The flag is read from settings once and kept: a Django
settings read costs over a microsecond (`LazyObject.__getattribute__`), and
tests that change it send `setting_changed`, which drops the kept value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

__all__ = [
    "SpanKind", "child_span", "configure_tracing", "leave_span", "mark_failed",
    "shutdown_tracing", "start_call_span", "trace_id_of", "tracing_enabled",
    "with_trace_context",
]  # fmt: skip

_tracer = trace.get_tracer("llmcaller")


class _Setup:
    """The tracer provider this process configured (None: none, or the tests'),
    and LLMCALLER_TRACING_ENABLED as last read (None: read it again)."""

    provider: Any = None
    enabled: bool | None = None


_setup = _Setup()


def tracing_enabled() -> bool:
    enabled = _setup.enabled
    if enabled is None:
        enabled = _setup.enabled = settings.LLMCALLER_TRACING_ENABLED
    return enabled


def forget_tracing_setting(*, setting: str, **kwargs: Any) -> None:
    """`setting_changed` receiver: the tests turned tracing on or off."""
    if setting == "LLMCALLER_TRACING_ENABLED":
        _setup.enabled = None


def configure_tracing() -> None:
    """Install an OTLP-exporting tracer provider, unless tracing is off or one is set."""
    if not tracing_enabled() or _setup.provider is not None:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # installed by whoever runs us (the tests' in-memory exporter)
    resource = Resource.create({"service.name": settings.LLMCALLER_TRACING_SERVICE_NAME})
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=settings.LLMCALLER_OTLP_ENDPOINT)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _setup.provider = provider


def shutdown_tracing() -> None:
    """Send the spans still buffered (the lifespan's shutdown)."""
    provider, _setup.provider = _setup.provider, None
    if provider is not None:
        provider.shutdown()


def start_call_span(name: str, headers: Mapping[str, str]) -> tuple[Span, object] | None:
    """Start a call's span under the caller's `traceparent` and make it current;
    returns the span and the token `leave_span` needs, or None when off."""
    if not tracing_enabled():
        return None
    parent = propagate.extract(headers)
    span = _tracer.start_span(name, context=parent, kind=SpanKind.SERVER)
    return span, context.attach(trace.set_span_in_context(span, parent))


def leave_span(token: object) -> None:
    """Stop the call's span from being current (it ends later, with the call)."""
    context.detach(token)


def trace_id_of(span: Span) -> str:
    return format(span.get_span_context().trace_id, "032x")


@contextmanager
def child_span(
    name: str, *, parent: Span | None = None, kind: SpanKind = SpanKind.INTERNAL, **attributes: Any
) -> Iterator[Span | None]:
    """A span under `parent` (else the current one), current while the block runs."""
    if not tracing_enabled():
        yield None
        return
    ctx = trace.set_span_in_context(parent) if parent is not None else None
    # Exceptions are not recorded: their text is not ours to export; callers mark
    # the error class instead.
    with _tracer.start_as_current_span(
        name, context=ctx, kind=kind, attributes=attributes, record_exception=False,
        set_status_on_exception=False,
    ) as span:  # fmt: skip
        yield span


def mark_failed(span: Span | None, error_class: str) -> None:
    if span is not None:
        span.set_attribute("llmcaller.error_class", error_class)
        span.set_status(Status(StatusCode.ERROR, error_class))


def with_trace_context(headers: dict[str, str]) -> dict[str, str]:
    """`headers` plus the current span's `traceparent` (for the upstream request)."""
    if tracing_enabled():
        propagate.inject(headers)
    return headers
