"""What routing counts, observed as Prometheus reads it: retries, attempts,
fallbacks and strategies on a real fallback, and circuits opening and closing."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from routing.breaker import CircuitBreaker
from routing.orchestrator import execute_call
from routing.types import CircuitState
from tests.routing.test_orchestrator import (  # noqa: F401  (fixtures)
    CHAT,
    MODEL,
    chain,
    pool,
    route,
    see_config_changes_at_once,
)

pytestmark = pytest.mark.django_db(transaction=True)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def counts() -> dict[str, float]:
    return {
        "retries": value("llmcaller_retries_total", provider="primary"),
        "failed": value("llmcaller_upstream_attempts_total", provider="primary", model=MODEL,
                        outcome="TEMPORARY"),
        "answered": value("llmcaller_upstream_attempts_total", provider="secondary", model=MODEL,
                          outcome="ok"),
        "fallbacks": value("llmcaller_fallbacks_total", capability="chat", provider="primary",
                           reason="TEMPORARY"),
        "routes": value("llmcaller_routes_total", capability="chat", strategy="fallback",
                        cache_hit="no"),
    }  # fmt: skip


async def test_a_fallback_counts_its_retries_attempts_and_strategy(chain, upstream):  # noqa: F811
    primary, _ = chain
    primary.retry_attempts = 2
    await primary.asave()
    upstream.set(error_status=503)
    before = counts()

    routed = await execute_call(request=route(), chat=CHAT)

    assert routed.provider == "secondary"
    grown = {name: counts()[name] - before[name] for name in before}
    assert grown == {"retries": 2, "failed": 3, "answered": 1, "fallbacks": 1, "routes": 1}


def test_a_circuit_moves_its_gauge_as_it_opens_and_closes(settings):
    now = [1000.0]
    breaker = CircuitBreaker(failures=2, cooldown=30, clock=lambda: now[0])
    provider = "metrics-circuit"
    opened = value("llmcaller_circuit_transitions_total", provider=provider, state="open")
    closed = value("llmcaller_circuit_transitions_total", provider=provider, state="closed")

    breaker.read([provider])
    assert value("llmcaller_circuit_state", provider=provider) == 0
    breaker.record_failure(provider)
    breaker.record_failure(provider)
    assert value("llmcaller_circuit_state", provider=provider) == 2
    now[0] += 31
    breaker.read([provider])
    assert value("llmcaller_circuit_state", provider=provider) == 1
    assert breaker.admit(provider) is CircuitState.HALF_OPEN  # this worker's trial
    breaker.record_success(provider, trial=True)  # only the trial closes the circuit

    assert value("llmcaller_circuit_state", provider=provider) == 0
    assert value("llmcaller_circuit_transitions_total", provider=provider, state="open") == (
        opened + 1
    )
    assert value("llmcaller_circuit_transitions_total", provider=provider, state="closed") == (
        closed + 1
    )
