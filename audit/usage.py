"""Usage per client and window, from the roll-ups plus the records since.

Roll-ups hold every record recorded before `RollupState.rolled_through`; the
records recorded after it (the tail, minutes of data when `roll_up_audit` runs
regularly) are summed from the call records themselves. Windows are UTC days and
months, and a call counts in the window where it started.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet, Sum

from audit.models import CallRecord, HourlyRollup, RollupState
from audit.types import CallOutcome, Usage


def usage_for(client: str | int, *, day: date | None = None, month: date | None = None) -> Usage:
    """Usage of `client` (a client name, or a client id when an int) in a UTC day
    or in the month containing `month`."""
    start, end = window_bounds(day=day, month=month)
    where = {"client_id": client} if isinstance(client, int) else {"client_name": client}
    rolled = HourlyRollup.objects.filter(**where, hour__gte=start, hour__lt=end).aggregate(
        calls=Sum("calls"),
        errors=Sum("errors"),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
    )
    tail = _tail(CallRecord.objects.filter(**where, started_at__gte=start, started_at__lt=end))
    summed = tail.aggregate(
        calls=Count("pk"),
        errors=Count("pk", filter=~Q(outcome=CallOutcome.SUCCESS)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
    )
    return Usage(**{k: (rolled[k] or 0) + (summed[k] or 0) for k in summed})


def window_bounds(
    *, day: date | None = None, month: date | None = None
) -> tuple[datetime, datetime]:
    if (day is None) == (month is None):
        raise ValueError("Give exactly one of day or month.")
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start, start + timedelta(days=1)
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    return start, next_month(start)


def next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1, day=1)
    return start.replace(month=start.month + 1, day=1)


def _tail(records: QuerySet[CallRecord]) -> QuerySet[CallRecord]:
    state = RollupState.objects.first()
    if state is None:
        return records
    return records.filter(recorded_at__gte=state.rolled_through)
