"""`GET /health`: the gateway's own parts and each enabled provider, one status each.

    transport   the shared upstream client is open (the ASGI lifespan ran)
    router      every capability has a default route (degraded when some lack one),
                from the worker's routing snapshot
    database    answers a query;  cache   stores and returns a value
    <provider>  its last probe (written by `probe_providers`); not probed → degraded;
                its circuit: open → failed, half-open → degraded

The overall status is failed when one of the gateway's own parts failed, else
degraded when anything is not ok, else ok. Provider state is read from the rows
the probes wrote: a health request never calls upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from providers.http import shared_client
from providers.models import HealthStatus, Provider
from routing.selectors import circuit_states, default_routes
from routing.snapshot import acurrent_snapshot
from routing.types import CircuitState

OK, DEGRADED, FAILED = HealthStatus.OK, HealthStatus.DEGRADED, HealthStatus.FAILED
CORE = ("transport", "router", "database", "cache")


@dataclass(frozen=True)
class Component:
    name: str
    status: str
    details: str = ""
    last_heartbeat: datetime | None = None
    capability_coverage: tuple[dict[str, str], ...] | None = None


@dataclass(frozen=True)
class HealthReport:
    status: str
    timestamp: datetime
    components: tuple[Component, ...]


async def gather_health() -> HealthReport:
    snapshot = await acurrent_snapshot()
    circuits = circuit_states(snapshot)
    routes = default_routes(snapshot, circuits)
    components = (_transport(), *await sync_to_async(_from_database)(routes, circuits))
    failed_core = any(c.status == FAILED for c in components if c.name in CORE)
    worst = FAILED if failed_core else (OK if all(c.status == OK for c in components) else DEGRADED)
    return HealthReport(worst, timezone.now(), components)


def _transport() -> Component:
    try:
        shared_client()
    except RuntimeError:
        return Component("transport", FAILED, "the upstream client is not open")
    return Component("transport", OK)


def _from_database(routes: dict, circuits: dict[str, CircuitState]) -> list[Component]:
    missing = [capability for capability, route in routes.items() if route is None]
    router = Component("router", DEGRADED if missing else OK, _missing(missing))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        providers = list(Provider.objects.filter(enabled=True).order_by("key"))
    except DatabaseError:
        return [router, Component("database", FAILED, "the database did not answer"), _cache()]
    components = [_provider(p, circuits.get(p.key, CircuitState.CLOSED)) for p in providers]
    return [router, Component("database", OK), _cache(), *components]


def _missing(capabilities: list[str]) -> str:
    return f"no default route for {', '.join(capabilities)}" if capabilities else ""


def _cache() -> Component:
    try:
        cache.set("llmcaller:health", "ok", 10)
        stored = cache.get("llmcaller:health")
    except Exception:  # each backend raises its own errors (redis.ConnectionError, …)
        stored = None
    if stored != "ok":
        return Component("cache", FAILED, "the cache did not return a stored value")
    return Component("cache", OK)


def _provider(provider: Provider, circuit: CircuitState) -> Component:
    status = provider.health_status
    details = provider.health_detail
    if status == HealthStatus.UNKNOWN:
        status, details = DEGRADED, "not probed yet"
    if circuit != CircuitState.CLOSED:
        # Calls are being held back from it, whatever its last probe said.
        status = FAILED if circuit == CircuitState.OPEN else DEGRADED
        details = f"circuit {circuit}" + (f"; {details}" if details else "")
    return Component(
        f"provider:{provider.key}",
        status,
        details,
        provider.last_heartbeat,
        tuple(provider.capability_coverage or ()),
    )
