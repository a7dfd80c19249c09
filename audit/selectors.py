"""Reading the audit trail: what other apps and the admin may ask of it.

`usage_for(client, day=…|month=…)` sums a client's calls and tokens from the
roll-ups plus the not-yet-rolled tail. `budget_status` / `abudget_status` answer
"may this client call now?" from cached counters (see `audit.budgets` for the
interface the API views call before routing). `last_verification()` is the most
recent chain check, for the admin. `recent_calls` and `latency_by_hour` feed the
admin's overview: the last hour's calls and failures (one indexed range count)
and each provider's mean latency per hour from the roll-ups.
`calls_for_requests(ids)` finds the call records of given request ids (a UAT
run reads how the gateway answered).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum

from audit.budgets import (
    Reservation,
    abudget_status,
    arelease_budget,
    areserve_budget,
    budget_status,
    release_budget,
    reserve_budget,
)
from audit.models import AuditVerification, CallRecord, HourlyRollup
from audit.types import CallOutcome
from audit.usage import usage_for

__all__ = [
    "Reservation", "abudget_status", "arelease_budget", "areserve_budget", "budget_status",
    "calls_for_requests", "last_verification", "latency_by_hour", "recent_calls",
    "release_budget", "reserve_budget",
    "usage_for",
]  # fmt: skip


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-started_at").first()


def recent_calls(*, since: datetime) -> tuple[int, int]:
    """Calls started since `since`, and how many of them failed."""
    found = CallRecord.objects.filter(started_at__gte=since).aggregate(
        calls=Count("pk"), failed=Count("pk", filter=~Q(outcome=CallOutcome.SUCCESS))
    )
    return found["calls"], found["failed"]


def latency_by_hour(*, now: datetime, hours: int = 24) -> dict[str, list[float | None]]:
    """Each provider's mean latency (ms) per hour, oldest first; None when idle."""
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    rows = (
        HourlyRollup.objects.filter(hour__gte=first)
        .exclude(provider="")
        .values("provider", "hour")
        .annotate(calls=Sum("calls"), total=Sum("latency_sum_ms"))
    )
    series: dict[str, list[float | None]] = defaultdict(lambda: [None] * hours)
    for row in rows:
        index = int((row["hour"] - first).total_seconds() // 3600)
        if 0 <= index < hours and row["calls"]:
            series[row["provider"]][index] = row["total"] / row["calls"]
    return dict(series)


def calls_for_requests(request_ids: list[str]) -> dict[str, CallRecord]:
    """The call record of each request id that has one (the latest, if several)."""
    records = CallRecord.objects.filter(request_id__in=request_ids).order_by("seq")
    return {record.request_id: record for record in records}
