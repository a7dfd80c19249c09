"""What the gateway counts for Prometheus at its door, and the `/metrics` exposition.

Each app counts what it owns (`routing.metrics`: routes, fallbacks, attempts,
retries, circuits; `audit.metrics`: the call-record writer); this module counts
calls as they end (`observe_call`, from `CallLog.finish`), refusals by the
client's own limits, and cache errors. Labels stay few and bounded: method, door,
outcome, provider and model come from the configuration, never from callers.

Several workers: `llmcaller.serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh
directory before any worker starts; each process then writes its values into
memory-mapped files there, and a scrape of any worker reads them all. Without it
(one process under another server, the tests) the default registry answers.
"""

from __future__ import annotations

import os
from functools import lru_cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = ["CONTENT_TYPE_LATEST", "exposition", "observe_call", "process_exiting"]

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

CALLS = Counter(
    "llmcaller_calls",
    "Calls ended, by method, door, outcome (the call record's), provider and model.",
    ["method", "door", "outcome", "provider", "model"],
)
CALL_SECONDS = Histogram(
    "llmcaller_call_duration_seconds",
    "From the request's arrival to its answer (a stream: to its end), by method and door.",
    ["method", "door"],
    buckets=LATENCY_BUCKETS,
)
FIRST_TOKEN_SECONDS = Histogram(
    "llmcaller_time_to_first_token_seconds",
    "From a streamed call's arrival to its first delta, by provider and model.",
    ["provider", "model"],
    buckets=LATENCY_BUCKETS,
)
REJECTIONS = Counter(
    "llmcaller_limit_rejections",
    "Calls refused by the client's own limits: rate, streams or budget.",
    ["limit"],
)
CACHE_ERRORS = Counter(
    "llmcaller_cache_errors",
    "Errors from the shared cache (Redis: by cache operation; the machine cache: read, write).",
    ["operation"],
)
RATE_REJECTED = REJECTIONS.labels(limit="rate")
STREAMS_REJECTED = REJECTIONS.labels(limit="streams")
BUDGET_REJECTED = REJECTIONS.labels(limit="budget")


def observe_call(
    *, method: str, door: str, outcome: str, provider: str, model: str, seconds: float,
    first_token_seconds: float | None,
) -> None:  # fmt: skip
    _calls(method, door, outcome, provider, model).inc()
    _call_seconds(method, door).observe(seconds)
    if first_token_seconds is not None:
        _first_token_seconds(provider, model).observe(first_token_seconds)


# `labels()` costs several microseconds a call (it converts and checks every value);
# the hot path keeps each labelled child it has used. Labels come from the
# configuration, so the caches stay small; their bound keeps them so.
_calls = lru_cache(maxsize=4096)(CALLS.labels)
_call_seconds = lru_cache(maxsize=256)(CALL_SECONDS.labels)
_first_token_seconds = lru_cache(maxsize=1024)(FIRST_TOKEN_SECONDS.labels)


def exposition() -> bytes:
    """Every metric of every worker, in Prometheus' text format."""
    if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def process_exiting() -> None:
    """A worker stops: its live gauges (the audit queue) leave the sums."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        multiprocess.mark_process_dead(os.getpid())
