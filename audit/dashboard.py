"""What the audit dashboard shows, computed from the hourly roll-ups only.

Local providers are those whose kind (from `AUDIT_PROVIDER_KINDS`, provider=kind)
is lmstudio or ollama, or, when unlisted, whose name contains one of those. The
estimated saving prices the local tokens at `AUDIT_SAVING_REFERENCE_MODEL`'s rate
from `AUDIT_MODEL_PRICES` (USD per 1,000 tokens): what the same tokens would have
cost on that cloud model. Without a price it says so rather than guess.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from audit import charts
from audit.models import HourlyRollup
from audit.rollups import latency_percentile

LOCAL_KINDS = ("lmstudio", "ollama")


def dashboard_context(*, days: int = 7) -> dict[str, Any]:
    now = timezone.now()
    rollups = HourlyRollup.objects.filter(hour__gte=now - timedelta(days=days))
    totals = rollups.aggregate(calls=Sum("calls"), errors=Sum("errors"))
    local, cloud = _local_and_cloud_tokens(rollups)
    return {
        "days": days,
        "total_calls": totals["calls"] or 0,
        "total_errors": totals["errors"] or 0,
        **_charts(rollups, days),
        "share_chart": charts.share_bar(
            local, cloud, title="Tokens served locally vs in the cloud"
        ),
        "local_tokens": local,
        "cloud_tokens": cloud,
        "saving": _estimated_saving(local),
        "reference_model": settings.AUDIT_SAVING_REFERENCE_MODEL,
    }


def _charts(rollups: QuerySet[HourlyRollup], days: int) -> dict[str, Any]:
    return {
        "calls_chart": charts.column_chart(
            _calls_over_time(rollups, days), title="Calls and errors"
        ),
        "latency_chart": charts.paired_bars(
            _latency_by_provider(rollups), title="Latency per provider (p50, p95)"
        ),
        "errors_chart": charts.bar_chart(
            _summed(rollups.exclude(error_class=""), "error_class", "errors"),
            title="Failed calls by error class",
            unit="calls",
        ),
        "strategies_chart": charts.bar_chart(
            _summed(rollups, "strategy", "calls"), title="Routing strategies", unit="calls"
        ),
    }


def _calls_over_time(rollups: QuerySet[HourlyRollup], days: int) -> list[tuple[str, int, int]]:
    if days <= 2:
        rows = rollups.values("hour").annotate(c=Sum("calls"), e=Sum("errors")).order_by("hour")
        return [(f"{r['hour']:%H:00}", r["c"], r["e"]) for r in rows]
    rows = (
        rollups.annotate(day=TruncDay("hour"))
        .values("day")
        .annotate(c=Sum("calls"), e=Sum("errors"))
        .order_by("day")
    )
    return [(f"{r['day']:%b %d}", r["c"], r["e"]) for r in rows]


def _latency_by_provider(rollups: QuerySet[HourlyRollup]) -> list[tuple[str, float, float]]:
    buckets: dict[str, list[int]] = defaultdict(list)
    for provider, counts in rollups.exclude(provider="").values_list("provider", "latency_buckets"):
        summed = buckets[provider]
        summed.extend([0] * (len(counts) - len(summed)))
        for i, count in enumerate(counts):
            summed[i] += count
    return sorted(
        (provider, latency_percentile(counts, 0.5), latency_percentile(counts, 0.95))
        for provider, counts in buckets.items()
        if sum(counts)
    )


def _summed(rollups: QuerySet[HourlyRollup], field: str, measure: str) -> list[tuple[str, int]]:
    rows = rollups.values(field).annotate(n=Sum(measure)).order_by("-n")
    return [(row[field] or "(none)", row["n"]) for row in rows if row["n"]]


def _local_and_cloud_tokens(rollups: QuerySet[HourlyRollup]) -> tuple[int, int]:
    local = cloud = 0
    per_provider = rollups.values("provider").annotate(
        i=Sum("input_tokens"), o=Sum("output_tokens")
    )
    for row in per_provider:
        if is_local(row["provider"]):
            local += row["i"] + row["o"]
        else:
            cloud += row["i"] + row["o"]
    return local, cloud


def is_local(provider: str, kinds: dict[str, str] | None = None) -> bool:
    kinds = settings.AUDIT_PROVIDER_KINDS if kinds is None else kinds
    kind = kinds.get(provider)
    if kind is not None:
        return kind.lower() in LOCAL_KINDS
    return any(local in provider.lower() for local in LOCAL_KINDS)


def _estimated_saving(local_tokens: int) -> float | None:
    price = settings.AUDIT_MODEL_PRICES.get(settings.AUDIT_SAVING_REFERENCE_MODEL)
    if price is None:
        return None
    return round(local_tokens / 1000 * price, 2)
