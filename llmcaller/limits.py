"""Per-client limits, counted in Django's cache (Redis across workers, else memory).

Requests per minute use a fixed one-minute window: one counter per client per
window, raised with `cache.incr` (atomic in Redis). Concurrent streams use one
counter per client, raised when a stream opens and lowered when it ends; its TTL
(`LLMCALLER_STREAM_SLOT_TTL`) frees slots a killed worker never gave back.
Over a limit → `RateLimited` with a retry hint (clamped to 60 s when answered).

Token budgets are reserved before a call (`reserve_budget`): its worst case is
the prompt's estimated tokens (`providers.usage_estimate`) plus its `maxTokens`,
which a budgeted chat without one gets as `LLMCALLER_DEFAULT_MAX_TOKENS`, so the
reservation really bounds what the call can spend. The call log releases the
reservation once the call's record (with its real tokens) has committed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache

from audit import clock
from audit.selectors import Reservation, abudget_status, areserve_budget
from llmcaller.auth import CallerClient
from llmcaller.errors import RateLimited
from llmcaller.metrics import BUDGET_REJECTED, RATE_REJECTED, STREAMS_REJECTED
from providers.types import ChatMessage
from providers.usage_estimate import estimate_prompt_tokens, estimate_tokens

WINDOW = 60
RATE_KEY = "llmcaller:rate:{}:{}"
STREAMS_KEY = "llmcaller:streams:{}"
STREAM_RETRY_AFTER = 1.0


def check_rate(client: CallerClient) -> None:
    limit = client.requests_per_minute
    if not limit:
        return
    now = clock.time()
    window = int(now // WINDOW)
    count = _incr(RATE_KEY.format(client.id, window), WINDOW + 5)
    if count > limit:
        RATE_REJECTED.inc()
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
        STREAMS_REJECTED.inc()
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


def worst_case_tokens(data: dict[str, Any]) -> int:
    """What a validated chat or embed request can spend at most (its prompt estimated)."""
    if "inputs" in data:
        return sum(estimate_tokens(text) for text in data["inputs"])
    messages = (ChatMessage(m["role"], m["content"]) for m in data.get("messages", ()))
    return estimate_prompt_tokens(messages) + data.get("maxTokens", 0)


async def reserve_budget(client: CallerClient, data: dict[str, Any]) -> Reservation:
    """Hold the call's worst case against the client's budgets, or refuse it (429)."""
    if "messages" in data and "maxTokens" not in data:
        data["maxTokens"] = settings.LLMCALLER_DEFAULT_MAX_TOKENS  # a bound to reserve
    held, resets_at = await areserve_budget(
        client.id, client.daily_token_budget, client.monthly_token_budget,
        tokens=worst_case_tokens(data), hold_seconds=settings.LLMCALLER_BUDGET_HOLD_SECONDS,
    )  # fmt: skip
    if held is None:
        _refuse_spent(resets_at)
    return held


async def check_budget(client: CallerClient) -> None:
    """Refuse a client whose daily or monthly token budget is spent, before routing."""
    allowed, resets_at = await abudget_status(
        client.id, client.daily_token_budget, client.monthly_token_budget
    )
    if not allowed:
        _refuse_spent(resets_at)


def _refuse_spent(resets_at: Any) -> None:
    BUDGET_REJECTED.inc()
    wait = (resets_at - clock.now()).total_seconds() if resets_at else None
    when = f" It resets at {resets_at:%Y-%m-%d %H:%M} UTC." if resets_at else ""
    raise RateLimited(f"The client's token budget is spent.{when}", retry_after=wait)
