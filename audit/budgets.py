"""Token budgets per client, cheap enough to check before every call.

Interface for the API views (call it after authentication, before routing)::

    held, resets_at = await areserve_budget(client.id, daily, monthly, tokens=worst_case)
    # held is None: refused (spent); else call, and after the record commits:
    release_budget(held)

    allowed, resets_at = await abudget_status(client.id, daily_limit, monthly_limit)
    # a read only, or budget_status(...) from sync code

Limits are total tokens (input + output) per UTC day and per UTC month; None
means no limit. When `allowed` is False, `resets_at` is when every exceeded
window has reset (answer 429 `RATE_LIMIT` with a Retry-After from it). When
allowed, it is when the tightest configured window next resets, or None when
there are no limits.

Each read is one cache `get_many`. Counters live in Django's cache (Redis when
`REDIS_URL` is set, so all workers share them), are incremented by every batch
`record_call` commits (by its budgeted clients' records only), and are rebuilt
from the roll-ups and the not-yet-rolled tail when missing or older than
`AUDIT_BUDGET_RECONCILE_SECONDS`. A count may lag by the calls in flight during
a rebuild, for at most that long.

Reading, then counting after the call, lets every concurrent call pass, so a
call first reserves its worst case (its prompt and `maxTokens`): one atomic
`incr` of the client's reserved tokens, then a read of its used tokens; it may
run only if used + what others had reserved is under the limit, else it gives
its reservation back. Reserved tokens are counted until the call's record has
committed (its real tokens are then in the used counter) and the reservation is
released, so concurrent calls overspend a budget by at most one reservation.
Reservations live in a key per `hold_seconds` period, and a reading sums this
period's and the last one's: a worker that dies holding one loses it for at
most two periods, never for good. When the
cache does not answer, each read counts from the database instead: slower, but a
budget still holds (fail closed), since it caps spending, not load.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from audit import clock
from audit.types import CallRecordData
from audit.usage import next_month, usage_for

logger = logging.getLogger(__name__)


class _Window(NamedTuple):
    limit: int
    key: str
    span: dict[str, date]  # usage_for's keyword: {"day": …} or {"month": …}
    resets_at: datetime


def budget_status(
    client_id: int | None, daily_limit: int | None, monthly_limit: int | None
) -> tuple[bool, datetime | None]:
    if client_id is None or (daily_limit is None and monthly_limit is None):
        return True, None
    windows = _windows(client_id, daily_limit, monthly_limit, clock.now())
    try:
        cached = cache.get_many([window.key for window in windows])
    except ConnectionError:
        cached = {}  # counted from the database below
    exceeded = [
        window.resets_at
        for window in windows
        if _used(client_id, window, cached.get(window.key)) >= window.limit
    ]
    if exceeded:
        return False, max(exceeded)
    return True, windows[0].resets_at


async def abudget_status(
    client_id: int | None, daily_limit: int | None, monthly_limit: int | None
) -> tuple[bool, datetime | None]:
    if client_id is None or (daily_limit is None and monthly_limit is None):
        return True, None
    return await sync_to_async(budget_status)(client_id, daily_limit, monthly_limit)


@dataclass(frozen=True)
class Reservation:
    """Tokens held for one call, in the period's key they were added to."""

    key: str
    tokens: int


def reserve_budget(
    client_id: int, daily_limit: int | None, monthly_limit: int | None, *, tokens: int,
    hold_seconds: float,
) -> tuple[Reservation | None, datetime | None]:  # fmt: skip
    """Hold `tokens` of the client's budgets for one call; (None, resets_at) when spent."""
    now = clock.now()
    windows = _windows(client_id, daily_limit, monthly_limit, now)
    period = int(now.timestamp() // hold_seconds)
    key, previous = _reserved_key(client_id, period), _reserved_key(client_id, period - 1)
    cache.add(key, 0, timeout=2 * hold_seconds)
    held = cache.incr(key, tokens)  # atomic: each concurrent call sees the others'
    cached = cache.get_many([previous, *(window.key for window in windows)])
    before = held - tokens + cached.get(previous, 0)
    exceeded = [
        window.resets_at
        for window in windows
        if _used(client_id, window, cached.get(window.key)) + before >= window.limit
    ]
    reservation = Reservation(key, tokens)
    if exceeded:
        release_budget(reservation)
        return None, max(exceeded)
    return reservation, windows[0].resets_at


async def areserve_budget(
    client_id: int, daily_limit: int | None, monthly_limit: int | None, *, tokens: int,
    hold_seconds: float,
) -> tuple[Reservation | None, datetime | None]:  # fmt: skip
    return await sync_to_async(reserve_budget)(
        client_id, daily_limit, monthly_limit, tokens=tokens, hold_seconds=hold_seconds
    )


def release_budget(reservation: Reservation) -> None:
    """Give a call's reservation back (its record has committed, or it never ran)."""
    try:
        cache.decr(reservation.key, reservation.tokens)
    except ValueError:
        pass  # the period's key has expired: the hold lapsed on its own
    except Exception:  # the call is done; a cache outage only holds tokens a while longer
        logger.exception("Could not release a budget reservation")


async def arelease_budget(reservation: Reservation) -> None:
    await sync_to_async(release_budget)(reservation)


def count_usage(items: Iterable[CallRecordData]) -> None:
    """Add committed records' tokens to the cached counters that exist. A client
    without a budget has none (only a budget's check makes them), so its records
    skip the cache: on Redis a round trip that every call would await."""
    totals: Counter[str] = Counter()
    for item in items:
        tokens = item.input_tokens + item.output_tokens
        if item.client_id is None or not tokens or not item.client_has_budget:
            continue
        started = item.started_at.astimezone(UTC).date()
        totals[_day_key(item.client_id, started)] += tokens
        totals[_month_key(item.client_id, started)] += tokens
    if not totals:
        return
    try:
        _add_to_existing(totals)
    except Exception:  # the records are committed; a cache outage only delays counts
        logger.exception("Could not update the budget counters %s", ", ".join(totals))


def _add_to_existing(totals: Counter[str]) -> None:
    """Raise the counters that are cached; one that is not stays absent (the next
    read rebuilds it from the committed records). The shared caches (Redis, the
    machine cache) do it in one round trip, which every call awaits before its
    answer, budgeted client or not; the local-memory cache key by key."""
    add_many = getattr(cache, "incr_existing_many", None)
    if add_many is not None:
        add_many(dict(totals))
        return
    for key, tokens in totals.items():
        try:
            cache.incr(key, tokens)
        except ValueError:
            pass


def _windows(
    client_id: int, daily_limit: int | None, monthly_limit: int | None, now: datetime
) -> list[_Window]:
    today = now.astimezone(UTC).date()
    midnight = datetime.combine(today, time(), tzinfo=UTC)
    windows = []
    if daily_limit is not None:
        key = _day_key(client_id, today)
        windows.append(_Window(daily_limit, key, {"day": today}, midnight + timedelta(days=1)))
    if monthly_limit is not None:
        key = _month_key(client_id, today)
        windows.append(_Window(monthly_limit, key, {"month": today}, next_month(midnight)))
    return windows


def _used(client_id: int, window: _Window, cached: int | None) -> int:
    if cached is not None:
        return cached
    used = usage_for(client_id, **window.span).total_tokens
    try:
        cache.add(window.key, used, timeout=settings.AUDIT_BUDGET_RECONCILE_SECONDS)
    except ConnectionError:
        pass
    return used


def _reserved_key(client_id: int, period: int) -> str:
    return f"audit:reserved:{client_id}:{period}"


def _day_key(client_id: int, day: date) -> str:
    return f"audit:tokens:{client_id}:{day:%Y-%m-%d}"


def _month_key(client_id: int, day: date) -> str:
    return f"audit:tokens:{client_id}:{day:%Y-%m}"
