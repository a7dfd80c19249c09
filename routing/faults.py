"""Fault injection: which rehearsed failure, if any, a call to a model meets.

`pick_fault` is pure: the rules come from the snapshot, the time and the random
source are passed in. A rule applies when it is enabled, inside its window
(`starts_at` ≤ now < `expires_at`, either end open), and targets the provider or
this very model; each applicable rule, in configuration (name) order, then rolls
its probability, and the first hit is returned. Nothing is ever injected unless
LLMCALLER_FAULTS_ENABLED is on (pass `enabled` to decide explicitly).
`active_faults` lists the rules that could fire now (what a rehearsal records).
`inject_fault` and `break_stream` apply the one picked; the executor marks it
in the attempt it belongs to, so logs and routing metadata show it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import TypeVar

from django.conf import settings

from providers.errors import (
    UpstreamAuthRejected,
    UpstreamRateLimited,
    UpstreamTemporary,
    UpstreamTimeout,
)
from routing.models import FaultKind
from routing.types import FaultSpec

T = TypeVar("T")


def pick_fault(
    rules: Iterable[FaultSpec],
    provider: str,
    model: str,
    now: float,
    rng: random.Random,
    *,
    enabled: bool | None = None,
) -> FaultSpec | None:
    if not (settings.LLMCALLER_FAULTS_ENABLED if enabled is None else enabled):
        return None
    for rule in rules:
        if _applies(rule, provider, model, now) and rng.random() < rule.probability:
            return rule
    return None


def active_faults(
    rules: Iterable[FaultSpec], now: float, *, enabled: bool | None = None
) -> list[FaultSpec]:
    """The enabled rules inside their window now; none while injection is off."""
    if not (settings.LLMCALLER_FAULTS_ENABLED if enabled is None else enabled):
        return []
    return [rule for rule in rules if rule.enabled and _in_window(rule, now)]


def _in_window(rule: FaultSpec, now: float) -> bool:
    started = rule.starts_at is None or rule.starts_at <= now
    return started and (rule.expires_at is None or now < rule.expires_at)


def _applies(rule: FaultSpec, provider: str, model: str, now: float) -> bool:
    if not rule.enabled or rule.provider != provider:
        return False
    if rule.model_id is not None and rule.model_id != model:
        return False
    return _in_window(rule, now)


async def inject_fault(fault: FaultSpec, provider: str) -> None:
    """Apply a fault just before the upstream call: raise its failure, or sleep.

    A broken stream is applied by `break_stream` instead, once the stream runs;
    for a non-streaming call it reads as a malformed body.
    """
    detail = f"{provider}: injected fault {fault.name!r}"
    if fault.kind == FaultKind.LATENCY:
        await asyncio.sleep(fault.latency_ms / 1000)
    elif fault.kind == FaultKind.TIMEOUT:
        await asyncio.sleep(fault.latency_ms / 1000)
        raise UpstreamTimeout(detail)
    elif fault.kind == FaultKind.RATE_LIMIT:
        raise UpstreamRateLimited(detail, status=429, retry_after=1.0)
    elif fault.kind == FaultKind.AUTH:
        raise UpstreamAuthRejected(detail, status=401)
    elif fault.kind != FaultKind.BROKEN_STREAM:
        raise UpstreamTemporary(detail)  # TEMPORARY and MALFORMED


async def break_stream(
    events: AsyncIterator[T], fault: FaultSpec, provider: str
) -> AsyncIterator[T]:
    """Pass `break_after` events through, then fail as a dropped stream would."""
    count = 0
    async with aclosing(events):
        async for event in events:
            if count >= fault.break_after:
                raise UpstreamTemporary(
                    f"{provider}: injected fault {fault.name!r} broke the stream"
                )
            count += 1
            yield event
