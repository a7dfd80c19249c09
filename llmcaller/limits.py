"""Per-client limits, counted in Django's cache (Redis across workers, else memory).

Requests per minute use a fixed one-minute window: one counter per client per
window, raised with `cache.incr` (atomic in Redis). Concurrent streams hold slots
(`llmcaller.stream_slots`). Over a limit → `RateLimited` with a retry hint
(clamped to 60 s when answered). When the cache does not answer, requests are
not counted (fail open): a rate limit protects the upstreams from bursts, and
refusing every call while the cache is down would be an outage of its own.

Token budgets are reserved before a call (`reserve_budget`, which every door
reaches through `llmcaller.api.base.reserve_call`): its worst case is the
prompt's estimated tokens (`providers.usage_estimate`) plus its max tokens,
which a budgeted chat without one gets as `LLMCALLER_DEFAULT_MAX_TOKENS`
(`chat_max_tokens`), and is sent upstream with, so the reservation really bounds
what the call can spend. The call log releases the reservation once the call's
record (with its real tokens) has committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from audit import clock
from audit.selectors import Reservation, abudget_status, areserve_budget
from llmcaller.auth import CallerClient
from llmcaller.errors import BudgetSpent, RateLimited
from llmcaller.metrics import BUDGET_REJECTED, RATE_REJECTED
from providers.types import ChatMessage
from providers.usage_estimate import estimate_prompt_tokens, estimate_tokens

WINDOW = 60
RATE_KEY = "llmcaller:rate:{}:{}"


def check_rate(client: CallerClient) -> None:
    limit = client.requests_per_minute
    if not limit:
        return
    now = clock.time()
    window = int(now // WINDOW)
    try:
        count = _incr(RATE_KEY.format(client.id, window), WINDOW + 5)
    except ConnectionError:
        return  # fail open: see the module's docstring
    if count > limit:
        RATE_REJECTED.inc()
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


def chat_max_tokens(client: CallerClient, max_tokens: int | None) -> int | None:
    """The bound a chat runs with: the caller's own, or for a budgeted client
    `LLMCALLER_DEFAULT_MAX_TOKENS`, so that its reservation bounds what it can spend."""
    if max_tokens is None and client.has_budget:
        return settings.LLMCALLER_DEFAULT_MAX_TOKENS
    return max_tokens


def worst_case_tokens(
    *,
    messages: Iterable[ChatMessage] = (),
    inputs: Iterable[str] = (),
    max_tokens: int | None = None,
) -> int:
    """What a chat (its messages) or an embed (its inputs) can spend at most, the
    prompt estimated."""
    prompt = estimate_prompt_tokens(messages) + sum(estimate_tokens(text) for text in inputs)
    return prompt + (max_tokens or 0)


async def reserve_budget(client: CallerClient, *, tokens: int) -> Reservation:
    """Hold a call's worst case against the client's budgets, or refuse it (429)."""
    held, resets_at = await areserve_budget(
        client.id, client.daily_token_budget, client.monthly_token_budget,
        tokens=tokens, hold_seconds=settings.LLMCALLER_BUDGET_HOLD_SECONDS,
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
    raise BudgetSpent(f"The client's token budget is spent.{when}", retry_after=wait)
