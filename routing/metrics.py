"""What routing counts for Prometheus: routes, fallbacks, upstream attempts,
retries and circuit states (exposed by `llmcaller.metrics.exposition`).

Circuit state is a gauge per provider (0 closed, 1 half-open, 2 open) holding
the state this gateway last saw; a worker sets it only when what it saw changed,
so reading the breakers on every call costs no metric write.
"""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter, Gauge, Histogram

from routing.types import CircuitState

ROUTES = Counter(
    "llmcaller_routes",
    "Calls routed, by capability and strategy (caller-override, capability-default, "
    "task-preference, fallback) and whether the response cache answered.",
    ["capability", "strategy", "cache_hit"],
)
FALLBACKS = Counter(
    "llmcaller_fallbacks",
    "Moves to the plan's next step, by capability, the provider left and its error class.",
    ["capability", "provider", "reason"],
)
ATTEMPTS = Counter(
    "llmcaller_upstream_attempts",
    "Upstream calls, by provider, model and outcome (ok or an error class).",
    ["provider", "model", "outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "llmcaller_upstream_attempt_duration_seconds",
    "One upstream call (a stream: until its first event), by provider.",
    ["provider"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
RETRIES = Counter("llmcaller_retries", "Retries of a temporary failure, by provider.", ["provider"])
CIRCUIT_STATE = Gauge(
    "llmcaller_circuit_state",
    "Each provider's circuit as last seen: 0 closed, 1 half-open, 2 open.",
    ["provider"],
    multiprocess_mode="mostrecent",
)
CIRCUIT_TRANSITIONS = Counter(
    "llmcaller_circuit_transitions",
    "Circuits this gateway opened or closed, by provider and the state entered.",
    ["provider", "state"],
)
# Labelled children the hot path keeps (`labels()` costs microseconds a call).
route_counter = lru_cache(maxsize=256)(ROUTES.labels)
attempt_counter = lru_cache(maxsize=4096)(ATTEMPTS.labels)
attempt_seconds = lru_cache(maxsize=256)(ATTEMPT_SECONDS.labels)

_STATE_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}
# The state each provider's gauge was last set to, in this process.
_seen: dict[str, CircuitState] = {}


def observe_circuits(states: dict[str, CircuitState]) -> None:
    for provider, state in states.items():
        if _seen.get(provider) is not state:
            _seen[provider] = state
            CIRCUIT_STATE.labels(provider).set(_STATE_VALUES[state])


def circuit_changed(provider: str, state: CircuitState) -> None:
    CIRCUIT_TRANSITIONS.labels(provider, str(state)).inc()
    observe_circuits({provider: state})
