"""Health probes: does a provider answer, how fast, and does it cover what it
is configured to serve?

    no answer (refused, timed out), credential refused      → failed
    our credential is configured but missing or unreadable  → failed
    answered with an error (5xx, malformed body, other 4xx)  → degraded
    answered, but a configured capability has no model      → degraded
    answered and every configured capability is covered     → ok

Probes run concurrently under a cap; the results are written one row at a time.
`claim_due_providers` lets several probe loops (one per host) share the work.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from providers.errors import (
    CredentialUnavailable,
    UpstreamAuthRejected,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from providers.http import upstream_client
from providers.models import Capability, HealthStatus, Provider
from providers.types import DiscoveredModel


@dataclass(frozen=True)
class ProbeReport:
    provider: str
    status: str
    latency_ms: float
    detail: str
    coverage: tuple[dict[str, str], ...] = ()
    checked_at: datetime | None = None

    def __str__(self) -> str:
        return f"{self.provider}: {self.status} in {self.latency_ms:.0f} ms ({self.detail})"


async def run_probe(provider: Provider) -> ProbeReport:
    started = time.perf_counter()
    try:
        async with upstream_client() as client:
            found = await provider.adapter(client).probe()
    except UpstreamError as exc:
        return _report(provider, started, _status_for(exc), exc.detail)
    coverage = capability_coverage(provider.capabilities, found)
    missing = [row["capability"] for row in coverage if row["status"] != HealthStatus.OK]
    if missing:
        detail = "no model serves " + ", ".join(missing)
        return _report(provider, started, HealthStatus.DEGRADED, detail, coverage)
    if not found:
        return _report(provider, started, HealthStatus.DEGRADED, "answered with no models")
    return _report(provider, started, HealthStatus.OK, f"{len(found)} models", coverage)


def capability_coverage(
    configured: list[str], found: list[DiscoveredModel]
) -> tuple[dict[str, str], ...]:
    served = {capability for model in found for capability in model.capabilities}
    wanted = configured or [c for c in Capability.values if c in served]
    return tuple(
        {"capability": c, "status": HealthStatus.OK if c in served else HealthStatus.FAILED}
        for c in wanted
    )


def probe_provider(*, provider: Provider) -> ProbeReport:
    report = async_to_sync(run_probe)(provider)
    record_probe(provider=provider, report=report)
    return report


def probe_providers(*, providers: list[Provider]) -> list[ProbeReport]:
    """Probe many providers concurrently (at most PROBE_CONCURRENCY at once)."""

    async def probe_all() -> list[ProbeReport]:
        gate = asyncio.Semaphore(settings.PROBE_CONCURRENCY)

        async def guarded(provider: Provider) -> ProbeReport:
            async with gate:
                return await run_probe(provider)

        return await asyncio.gather(*(guarded(p) for p in providers))

    reports = async_to_sync(probe_all)()
    for provider, report in zip(providers, reports, strict=True):
        record_probe(provider=provider, report=report)
    return reports


def record_probe(*, provider: Provider, report: ProbeReport) -> None:
    provider.health_status = report.status
    provider.probe_latency_ms = round(report.latency_ms, 1)
    provider.health_detail = report.detail[:255]
    provider.capability_coverage = list(report.coverage)
    fields = ["health_status", "probe_latency_ms", "health_detail", "capability_coverage"]
    if report.status != HealthStatus.FAILED:
        # A heartbeat is the last time the provider answered at all.
        provider.last_heartbeat = report.checked_at
        fields.append("last_heartbeat")
    provider.save(update_fields=fields)


def claim_due_providers(*, interval: float, keys: list[str] | None = None) -> list[Provider]:
    """Take the enabled providers whose probe is due, so no other loop takes them."""
    now = timezone.now()
    due = Provider.objects.filter(enabled=True).filter(
        Q(next_probe_at__isnull=True) | Q(next_probe_at__lte=now)
    )
    if keys:
        due = due.filter(key__in=keys)
    claimed = []
    for provider in due:
        won = Provider.objects.filter(pk=provider.pk, next_probe_at=provider.next_probe_at).update(
            next_probe_at=now + timedelta(seconds=interval)
        )
        if won:
            claimed.append(provider)
    return claimed


def _status_for(exc: UpstreamError) -> str:
    failures = (UpstreamUnreachable, UpstreamTimeout, UpstreamAuthRejected, CredentialUnavailable)
    if isinstance(exc, failures):
        return HealthStatus.FAILED
    return HealthStatus.DEGRADED


def _report(
    provider: Provider,
    started: float,
    status: str,
    detail: str,
    coverage: tuple[dict[str, str], ...] = (),
) -> ProbeReport:
    latency_ms = (time.perf_counter() - started) * 1000
    return ProbeReport(provider.key, status, latency_ms, detail, coverage, timezone.now())
