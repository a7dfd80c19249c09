"""Pilot services: seed a pilot's checklist, tick its items, store UAT runs, and
sum a pilot's calls from its client's call records.

`seed_checklist(pilot)` adds what an onboarding needs in each phase (never twice).
`tick(item, actor=…)` / `untick(item, actor=…)` record who and when.
`record_uat_run(UatRunData(…))` stores one run with its checks, in one
transaction. `pilot_calls(pilot, now=…)` reads the call records of the pilot's
client between its dates, through the (client_id, started_at) index.
`open_pilots_panel` lists the pilots not closed on the admin overview.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count, Max, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from audit.models import CallRecord, ChecklistItem, Pilot, UatCheck, UatRun
from audit.pilot_models import ChecklistPhase, PilotStatus
from audit.review import ReviewItem, ReviewPanel
from audit.types import CallOutcome

CHECKLIST: dict[str, tuple[tuple[str, str], ...]] = {
    ChecklistPhase.PRE_FLIGHT: (
        ("environment-checked", "Environment checked (settings, database, cache)"),
        ("providers-checked", "Provider checks: probed, models discovered, health ok"),
        ("client-token-issued", "Client token issued to the calling tool"),
        ("limits-confirmed", "Rate limit, stream cap and token budgets confirmed"),
    ),
    ChecklistPhase.REHEARSAL: (
        ("uat-run", "UAT run passed against the gateway"),
        ("endpoints-exercised", "Every endpoint the tool uses exercised"),
        ("failure-rehearsed", "Failure rehearsal with fault rules"),
        ("health-as-expected", "Health as expected during and after the rehearsal"),
    ),
    ChecklistPhase.WRAP_UP: (
        ("latency-usage-reviewed", "Latency and usage reviewed"),
        ("findings-logged", "Findings logged"),
        ("follow-ups-filed", "Follow-ups filed"),
        ("pilot-signed-off", "Pilot signed off"),
    ),
}


def seed_checklist(pilot: Pilot) -> int:
    """Add the phase items `pilot` lacks; returns how many were added."""
    have = set(pilot.checklist.values_list("key", flat=True))
    items = [
        ChecklistItem(pilot=pilot, phase=phase, position=n, key=key, label=label)
        for phase, entries in CHECKLIST.items()
        for n, (key, label) in enumerate(entries, 1)
        if key not in have
    ]
    ChecklistItem.objects.bulk_create(items)
    return len(items)


def tick(item: ChecklistItem, *, actor: str, at: datetime | None = None) -> ChecklistItem:
    item.done_at, item.done_by = at or timezone.now(), actor
    item.save(update_fields=["done_at", "done_by"])
    return item


def untick(item: ChecklistItem, *, actor: str) -> ChecklistItem:
    # who un-ticked is not kept on the row: the item is simply not done again
    item.done_at, item.done_by = None, ""
    item.save(update_fields=["done_at", "done_by"])
    return item


@dataclass(frozen=True)
class CheckData:
    name: str
    status: str
    detail: str
    elapsed_ms: float
    request_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class UatRunData:
    """A finished run as `llmcaller` hands it over: plain values only."""

    pilot: Pilot | None
    trigger: str
    actor: str
    gateway_url: str
    client_name: str
    caller_tool: str
    started_at: datetime
    finished_at: datetime
    checks: tuple[CheckData, ...]
    config_hash: str = ""
    config_version: int | None = None
    faults_enabled: bool = False
    fault_rules: list[dict[str, Any]] = field(default_factory=list)


def record_uat_run(data: UatRunData) -> UatRun:
    count = {s: sum(c.status == s for c in data.checks) for s in ("passed", "failed", "skipped")}
    with transaction.atomic():
        run = UatRun.objects.create(
            pilot=data.pilot, phase=data.pilot.status if data.pilot else "",
            trigger=data.trigger, actor=data.actor, gateway_url=data.gateway_url[:255],
            client_name=data.client_name, caller_tool=data.caller_tool,
            started_at=data.started_at, finished_at=data.finished_at,
            passed=count["failed"] == 0, checks_passed=count["passed"],
            checks_failed=count["failed"], checks_skipped=count["skipped"],
            config_hash=data.config_hash, config_version=data.config_version,
            faults_enabled=data.faults_enabled, fault_rules=data.fault_rules,
        )  # fmt: skip
        UatCheck.objects.bulk_create(
            UatCheck(run=run, position=n, name=c.name, status=c.status, detail=c.detail[:500],
                     elapsed_ms=c.elapsed_ms, request_ids=list(c.request_ids))
            for n, c in enumerate(data.checks, 1)
        )  # fmt: skip
    return run


def pilot_window(pilot: Pilot, now: datetime) -> tuple[datetime, datetime]:
    """From the kickoff day's start to the end day's end (or now), in the current zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(pilot.kickoff, time.min, tzinfo=zone)
    if pilot.ends_on is None:
        return start, now
    return start, datetime.combine(pilot.ends_on + timedelta(days=1), time.min, tzinfo=zone)


def pilot_records(pilot: Pilot, now: datetime) -> QuerySet[CallRecord]:
    start, end = pilot_window(pilot, now)
    return CallRecord.objects.filter(
        client_id=pilot.client_id, started_at__gte=start, started_at__lt=end
    )


def pilot_calls(pilot: Pilot, *, now: datetime) -> list[dict[str, Any]]:
    """Per method: calls, errors, error rate, mean, p95 and max latency (ms)."""
    return summarize_calls(pilot_records(pilot, now))


def summarize_calls(records: QuerySet[CallRecord]) -> list[dict[str, Any]]:
    """`pilot_calls`'s figures for any set of call records (an evidence pack's)."""
    failed = ~Q(outcome=CallOutcome.SUCCESS)
    rows = (
        records.order_by()
        .values("method")
        .annotate(
            calls=Count("pk"),
            errors=Count("pk", filter=failed),
            mean_ms=Avg("latency_ms"),
            max_ms=Max("latency_ms"),
        )  # fmt: skip
        .order_by("method")
    )
    return [
        {**row, "error_rate": row["errors"] / row["calls"],
         "p95_ms": _p95(records.filter(method=row["method"]), row["calls"])}
        for row in rows
    ]  # fmt: skip


def _p95(records: QuerySet[CallRecord], calls: int) -> int:
    at = max(math.ceil(calls * 0.95) - 1, 0)
    return records.order_by("latency_ms").values_list("latency_ms", flat=True)[at]


def open_pilots_panel(request: HttpRequest, limit: int = 10) -> ReviewPanel | None:
    """The overview's panel: pilots not closed yet, with their status."""
    if not request.user.has_perm("audit.view_pilot"):
        return None
    pilots = Pilot.objects.exclude(status=PilotStatus.CLOSED).order_by("kickoff", "name")
    items = [
        ReviewItem(
            pilot.name,
            reverse("admin:audit_pilot_change", args=[pilot.pk]),
            f"{pilot.get_status_display()}: {pilot.client_name}, since {pilot.kickoff:%Y-%m-%d}",
        )
        for pilot in pilots[:limit]
    ]
    return ReviewPanel("Pilots not closed", items) if items else None
