"""Random tokens cannot push control state out of the cache: 10,000 bad tokens
leave a client's rate count and an open circuit exactly as they were."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets

import pytest
from asgiref.sync import async_to_sync
from django.test import RequestFactory

from llmcaller.auth import CallerClient, authenticate
from llmcaller.errors import RateLimited, Unauthenticated
from llmcaller.limits import check_rate
from routing.breaker import CircuitBreaker
from routing.types import CircuitState

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        bool(os.environ.get("REDIS_URL")),
        reason="this is about the local-memory default's sizes; Redis culls nothing "
        "(run with maxmemory-policy noeviction, docs/DEPLOYMENT.md)",
    ),
]

BAD_TOKENS = 10_000


async def _refused(request) -> bool:
    try:
        await authenticate(request, method="chat")
    except Unauthenticated:
        return True
    return False


async def _flood(count: int, *, at_once: int = 250) -> int:
    """`count` calls with random tokens, `at_once` in flight, as an attacker would."""
    factory = RequestFactory()
    refused = 0
    for _ in range(count // at_once):
        tokens = ["llmc_" + secrets.token_urlsafe(32) for _ in range(at_once)]
        requests = [factory.post("/", headers={"x-llm-caller-token": t}) for t in tokens]
        refused += sum(await asyncio.gather(*map(_refused, requests)))
    return refused


class _FixedClock:
    def time(self) -> float:
        return 1_800_000_030.0  # half a minute into a rate window, however long the flood


def test_random_bad_tokens_neither_reset_a_rate_limit_nor_close_a_circuit(
    monkeypatch, caplog, clock, settings
):
    # The per-address limit would stop this flood early; the cache is what is tested.
    settings.LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE = 0
    # The flood takes a while: time stands still (the `clock` fixture holds the
    # gateway's), so no window or TTL ends during it.
    for module in ("django.core.cache.backends.base",
                   "django.core.cache.backends.locmem"):  # fmt: skip
        monkeypatch.setattr(f"{module}.time", _FixedClock())
    caplog.set_level(logging.ERROR, logger="llmcaller.auth")  # 10,000 refusals, unprinted
    client = CallerClient(id=990, tool_id="busy", methods=frozenset(), requests_per_minute=2)
    check_rate(client)
    check_rate(client)
    breaker = CircuitBreaker(failures=2, cooldown=3600)
    breaker.record_failure("flaky")
    breaker.record_failure("flaky")
    assert breaker.state("flaky") is CircuitState.OPEN

    assert async_to_sync(_flood)(BAD_TOKENS) == BAD_TOKENS

    with pytest.raises(RateLimited):
        check_rate(client)
    assert breaker.state("flaky") is CircuitState.OPEN
