"""Per-client limits, counted in Django's cache (Redis across workers, else memory).

Requests per minute use a fixed one-minute window: one counter per client per
window, raised with `cache.incr` (atomic in Redis). Concurrent streams hold slots
(`llmcaller.stream_slots`). Over a limit → `RateLimited` with a retry hint
(clamped to 60 s when answered). When the cache does not answer, requests are
not counted (fail open): a rate limit protects the upstreams from bursts, and
refusing every call while the cache is down would be an outage of its own.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils import timezone

from audit.selectors import abudget_status
from llmcaller.auth import CallerClient
from llmcaller.errors import RateLimited

WINDOW = 60
RATE_KEY = "llmcaller:rate:{}:{}"


def check_rate(client: CallerClient) -> None:
    limit = client.requests_per_minute
    if not limit:
        return
    now = time.time()
    window = int(now // WINDOW)
    try:
        count = _incr(RATE_KEY.format(client.id, window), WINDOW + 5)
    except ConnectionError:
        return  # fail open: see the module's docstring
    if count > limit:
        raise RateLimited(
            f"This client is over its limit of {limit} requests a minute.",
            retry_after=WINDOW - now % WINDOW,
        )


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
    raise RateLimited(f"The client's token budget is spent.{when}", retry_after=wait)
