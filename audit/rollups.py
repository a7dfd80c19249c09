"""Hourly roll-ups of call records, recomputed whole and idempotently.

A run notes the time it starts (T), finds the hours touched by records recorded
since the previous run's T (less a short overlap for batches that were still
committing), and recomputes each of those hours from the records recorded before
T. `RollupState.rolled_through` then says exactly which records the roll-ups
hold, so usage figures can add the rest. Hours before the latest prune cutoff are
never recomputed: their records are gone and their roll-ups are all that remain.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncHour
from django.utils import timezone

from audit.models import (
    LATENCY_BUCKETS_MS,
    CallRecord,
    HourlyRollup,
    PruneCheckpoint,
    RollupState,
)
from audit.types import CallOutcome

OVERLAP = timedelta(minutes=5)
GROUP_BY = ("client_id", "client_name", "provider", "model", "method", "outcome",
            "error_class", "strategy")  # fmt: skip


def roll_up_hours(*, since: datetime | None = None) -> int:
    """Recompute the hours touched by records recorded since `since` (default:
    since the last run); returns how many hours were recomputed."""
    now = timezone.now()
    state = RollupState.objects.filter(pk=1).first()
    if since is None and state is not None:
        since = state.rolled_through - OVERLAP
    hours = _touched_hours(CallRecord.objects.filter(recorded_at__lt=now), since)
    for hour in hours:
        with transaction.atomic():
            HourlyRollup.objects.filter(hour=hour).delete()
            HourlyRollup.objects.bulk_create(_aggregate(hour, now))
    RollupState.objects.update_or_create(pk=1, defaults={"rolled_through": now})
    return len(hours)


def _touched_hours(records: QuerySet[CallRecord], since: datetime | None) -> list[datetime]:
    if since is not None:
        records = records.filter(recorded_at__gte=since)
    hours = records.annotate(hour=TruncHour("started_at")).values_list("hour", flat=True)
    floor = PruneCheckpoint.objects.aggregate(cutoff=Max("cutoff"))["cutoff"]
    return sorted(h for h in set(hours.distinct()) if floor is None or h >= floor)


def _aggregate(hour: datetime, now: datetime) -> Iterable[HourlyRollup]:
    records = CallRecord.objects.filter(
        started_at__gte=hour, started_at__lt=hour + timedelta(hours=1), recorded_at__lt=now
    )
    for group in summed_groups(records, GROUP_BY):
        yield HourlyRollup(hour=hour, **group)


def summed_groups(records: QuerySet[CallRecord], fields: Iterable[str]) -> Iterable[dict]:
    """Records summed per `fields` as roll-up rows are: calls, errors, tokens, of
    which estimated, latency and its buckets (the dashboard reads the last hour
    this way too)."""
    estimated = Q(usage_estimated=True)
    buckets = {
        f"b{i}": Count("pk", filter=Q(latency_ms__lt=bound))
        for i, bound in enumerate(LATENCY_BUCKETS_MS)
    }
    groups = records.values(*fields).annotate(
        # First: further down, `input_tokens` names the sum, not the record's field.
        estimated_tokens=Coalesce(
            Sum(F("input_tokens") + F("output_tokens"), filter=estimated),
            0,
            output_field=BigIntegerField(),
        ),  # fmt: skip
        estimated_calls=Count("pk", filter=estimated),
        calls=Count("pk"),
        errors=Count("pk", filter=~Q(outcome=CallOutcome.SUCCESS)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        latency_sum_ms=Sum("latency_ms"),
        latency_max_ms=Max("latency_ms"),
        **buckets,
    )
    for group in groups.order_by():
        below = [group.pop(f"b{i}") for i in range(len(LATENCY_BUCKETS_MS))]
        group["latency_buckets"] = _per_bucket(below, group["calls"])
        yield group


SUMMED = ("calls", "errors", "input_tokens", "output_tokens", "latency_sum_ms",
          "estimated_calls", "estimated_tokens")  # fmt: skip


def summed_rollups(
    rollups: QuerySet[HourlyRollup], fields: Iterable[str], *, buckets: bool = True
) -> Iterable[dict]:
    """Roll-up rows summed again per `fields`, in the database, into rows shaped as
    `summed_groups` gives them (the dashboard's day and week: a week is some 34,000
    roll-up rows, which took most of a second to decode and sum in Python).

    Latency buckets (JSON lists) are summed position by position, `->>` on
    PostgreSQL and SQLite alike. The sum is as long as the longest list summed, as
    merging the lists in Python made it: a group holding roll-ups of an older
    layout keeps a length `latency_percentile` refuses, never a wrong figure."""
    sums = {name: Sum(name) for name in SUMMED}
    positions = range(len(LATENCY_BUCKETS_MS) + 1)
    if buckets:
        for i in positions:
            value = Cast(KeyTextTransform(str(i), "latency_buckets"), BigIntegerField())
            sums[f"b{i}"] = Sum(value)
        sums["layout"] = Max(_ArrayLength("latency_buckets"))
    groups = rollups.values(*fields).annotate(latency_max_ms=Max("latency_max_ms"), **sums)
    for group in groups.order_by(*fields):
        if buckets:
            summed = [group.pop(f"b{i}") or 0 for i in positions]  # None: no list reached i
            length = group.pop("layout") or 0
            group["latency_buckets"] = [*summed, *[0] * length][:length]
        yield group


class _ArrayLength(Func):
    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra_context)


def _per_bucket(cumulative: list[int], total: int) -> list[int]:
    """Counts below each bound -> counts in each bucket, the slowest last."""
    edges = [0, *cumulative, total]
    return [edges[i + 1] - edges[i] for i in range(len(edges) - 1)]


def latency_percentile(buckets: list[int], fraction: float) -> float | None:
    """A latency percentile (ms) from summed buckets, interpolated within the
    bucket it falls in; the open last bucket reports its lower bound. Buckets of
    another layout (roll-ups made before the current `LATENCY_BUCKETS_MS`; run
    `roll_up_audit --since` to recompute them) give None rather than a wrong figure."""
    total = sum(buckets)
    if not total or len(buckets) != len(LATENCY_BUCKETS_MS) + 1:
        return None
    rank, seen = fraction * total, 0
    for index, count in enumerate(buckets):
        if count and seen + count >= rank:
            low = LATENCY_BUCKETS_MS[index - 1] if index else 0
            if index == len(LATENCY_BUCKETS_MS):
                return float(low)
            return low + (LATENCY_BUCKETS_MS[index] - low) * (rank - seen) / count
        seen += count
    return float(LATENCY_BUCKETS_MS[-1])
