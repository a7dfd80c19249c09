"""Per-client limits, counted in Django's cache (Redis across workers, else memory).

Requests per minute use a fixed one-minute window: one counter per client per
window, raised with `cache.incr` (atomic in Redis). Concurrent streams use one
counter per client, raised when a stream opens and lowered when it ends; its TTL
(`LLMCALLER_STREAM_SLOT_TTL`) frees slots a killed worker never gave back.
Over a limit → `RateLimited` with a retry hint (clamped to 60 s when answered).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from audit.selectors import abudget_status
from llmcaller.auth import CallerClient
from llmcaller.errors import BudgetSpent, RateLimited

WINDOW = 60
RATE_KEY = "llmcaller:rate:{}:{}"
STREAMS_KEY = "llmcaller:streams:{}"
STREAM_RETRY_AFTER = 1.0


def check_rate(client: CallerClient) -> None:
    limit = client.requests_per_minute
    if not limit:
        return
    now = time.time()
    window = int(now // WINDOW)
    count = _incr(RATE_KEY.format(client.id, window), WINDOW + 5)
    if count > limit:
        raise RateLimited(
            f"This client is over its limit of {limit} requests a minute.",
            retry_after=WINDOW - now % WINDOW,
        )


class StreamSlot:
    """One open stream counted against its client; `release()` is idempotent."""

    def __init__(self, key: str | None) -> None:
        self.key = key

    def release(self) -> None:
        key, self.key = self.key, None
        if key is not None:
            try:
                cache.decr(key)
            except ValueError:  # the safety TTL already freed it
                pass


def acquire_stream_slot(client: CallerClient) -> StreamSlot:
    limit = client.max_concurrent_streams
    if not limit:
        return StreamSlot(None)
    key = STREAMS_KEY.format(client.id)
    slot = StreamSlot(key)
    if _incr(key, settings.LLMCALLER_STREAM_SLOT_TTL) > limit:
        slot.release()
        raise RateLimited(
            f"This client already has {limit} streams open.", retry_after=STREAM_RETRY_AFTER
        )
    return slot


def _incr(key: str, ttl: float) -> int:
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.add(key, 0, ttl)
        return cache.incr(key)


async def check_budget(client: CallerClient) -> None:
    """Refuse a client whose daily or monthly token budget is spent, before routing."""
    allowed, resets_at = await abudget_status(
        client.id, client.daily_token_budget, client.monthly_token_budget
    )
    if allowed:
        return
    wait = (resets_at - timezone.now()).total_seconds() if resets_at else None
    when = f" It resets at {resets_at:%Y-%m-%d %H:%M} UTC." if resets_at else ""
    raise BudgetSpent(f"The client's token budget is spent.{when}", retry_after=wait)
