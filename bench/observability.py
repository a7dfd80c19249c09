"""`python bench/observability.py`: what metrics and tracing add to one call.

One call's metric writes, as a successful chat with one attempt makes them (the
call counter and latency histogram, the route, the attempt and its latency, the
audit queue's rise and fall, the batch's size and write time: a batch of one),
are timed in-process with the default registry, then again in a child process
with PROMETHEUS_MULTIPROC_DIR set (each write goes to a memory-mapped file, as
under `llmcaller.serve`). Then the tracing helpers one call runs (call span,
attempt span, header injection, audit span) with tracing off, and on with an SDK
provider that drops every span. CPU time per call; printed, never asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")

import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402

CALLS = 20_000


from audit import metrics as audit_metrics  # noqa: E402
from llmcaller.metrics import observe_call  # noqa: E402
from providers.tracing import (  # noqa: E402
    child_span,
    leave_span,
    start_call_span,
    tracing_enabled,
    with_trace_context,
)
from routing.metrics import attempt_counter, attempt_seconds, route_counter  # noqa: E402


def one_call_of_metrics() -> None:
    route_counter("chat", "capability-default", "no").inc()
    attempt_counter("sandbox", "qwen2.5-7b-instruct", "ok").inc()
    attempt_seconds("sandbox").observe(0.004)
    audit_metrics.QUEUED.inc()
    audit_metrics.QUEUED.dec(1)
    audit_metrics.BATCH_SECONDS.observe(0.002)
    audit_metrics.BATCH_RECORDS.observe(1)
    observe_call(method="chat", door="v1", outcome="success", provider="sandbox",
                 model="qwen2.5-7b-instruct", seconds=0.006, first_token_seconds=None)  # fmt: skip


def one_call_of_tracing() -> None:
    """As the call path runs them: the attempt's span only when tracing is on."""
    started = start_call_span("v1 chat", {"traceparent": TRACEPARENT})
    if tracing_enabled():
        with child_span("upstream attempt"):
            with_trace_context({"Authorization": "Bearer x"})
    else:
        with_trace_context({"Authorization": "Bearer x"})
    if started is not None:
        span, token = started
        with child_span("audit write", parent=span):
            pass
        span.end()
        leave_span(token)


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def per_call_us(step, calls: int = CALLS) -> float:
    step()  # first use creates the label children
    started = time.process_time()
    for _ in range(calls):
        step()
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        print(f"metrics, multiprocess files: {per_call_us(one_call_of_metrics):6.1f} µs per call")
        return
    print(f"a Python call doing nothing: {per_call_us(lambda: None):6.2f} µs (this machine's pace)")
    print(f"metrics, one process:        {per_call_us(one_call_of_metrics):6.1f} µs per call")
    with tempfile.TemporaryDirectory(prefix="llmcaller-bench-metrics-") as directory:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
        subprocess.run([sys.executable, __file__], env=env, check=True)
    with override_settings(LLMCALLER_TRACING_ENABLED=False):
        print(f"tracing off:                 {per_call_us(one_call_of_tracing):6.2f} µs per call")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    trace.set_tracer_provider(TracerProvider())  # records spans, exports none
    with override_settings(LLMCALLER_TRACING_ENABLED=True):
        on = per_call_us(one_call_of_tracing, 5000)
        print(f"tracing on (no exporter):    {on:6.1f} µs per call")


if __name__ == "__main__":
    main()
