"""Running a planned call: `execute_call`, `execute_embed` and `stream_call`.

Layered like httpx's `send`, each layer owning one concern:

    execute_* / stream_call   plan from the worker's snapshot and the circuit
                              states; answer from the response cache when the
                              client opted in
    _Run.walk                 the plan's steps in order: skips a step whose circuit
                              is open, moves on only for the error classes the step
                              names, remembers why
    _Run.try_step             retries UpstreamTemporary (timeouts included) with
                              exponential backoff and jitter, up to the provider's
                              retry_attempts, within the call's deadline
    _Run.attempt_once         one upstream call: injects a rehearsed fault, times
                              it, records it, feeds the circuit breaker

A stream retries and falls back only until its first event has arrived; after
that a failure goes to the caller, and the gateway never switches model
mid-answer. The breaker and the response cache speak to Django's cache with its
synchronous API: a local-memory call or one Redis round trip, cheaper than the
thread hop the async API would add. When the cache does not answer
(`ConnectionError`), circuits read closed and failures go uncounted (fail open):
the executor still retries and falls back per call, and refusing every call
because the cache is down would turn a cache outage into a gateway outage.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from typing import Any, TypeVar

from django.conf import settings

from providers.adapters import adapter_class
from providers.adapters.base import ProviderAdapter
from providers.errors import UpstreamError, UpstreamTemporary
from providers.http import shared_client
from providers.tracing import SpanKind, child_span, mark_failed, tracing_enabled
from providers.types import ChatDelta, ChatDone, ChatRequest, EmbedRequest
from routing import response_cache
from routing.breaker import BreakerReading, CircuitBreaker
from routing.errors import DeadlineExceeded, RouteMisconfigured, RouteRefused, error_class
from routing.faults import break_stream, inject_fault, pick_fault
from routing.metrics import FALLBACKS, RETRIES, attempt_counter, attempt_seconds, route_counter
from routing.planner import plan_call
from routing.snapshot import acurrent_snapshot
from routing.types import (
    Attempt,
    CachePolicy,
    CircuitState,
    FaultSpec,
    RoutedChat,
    RoutedEmbed,
    RoutePlan,
    RouteRequest,
    RouteStep,
    RoutingInfo,
    Snapshot,
    Strategy,
    StreamCompleted,
)

T = TypeVar("T")
MAX_BACKOFF = 2.0
Attempter = Callable[[ProviderAdapter, RouteStep, FaultSpec | None], Awaitable[T]]


async def execute_call(
    *,
    request: RouteRequest,
    chat: ChatRequest,
    cache: CachePolicy | None = None,
    breaker: CircuitBreaker | None = None,
) -> RoutedChat:
    async def attempt(adapter: ProviderAdapter, step: RouteStep, fault: FaultSpec | None):
        return await adapter.chat(replace(chat, model=step.model))

    facts = {"temperature": chat.temperature}
    return await _execute(request, attempt, RoutedChat, cache, breaker, facts)


async def execute_embed(
    *,
    request: RouteRequest,
    embed: EmbedRequest,
    cache: CachePolicy | None = None,
    breaker: CircuitBreaker | None = None,
) -> RoutedEmbed:
    async def attempt(adapter: ProviderAdapter, step: RouteStep, fault: FaultSpec | None):
        return await adapter.embed(replace(embed, model=step.model))

    facts = {"dimensions": embed.dimensions}
    return await _execute(request, attempt, RoutedEmbed, cache, breaker, facts)


async def _execute(
    request: RouteRequest,
    attempt: Attempter,
    routed: type[T],
    cache: CachePolicy | None,
    breaker: CircuitBreaker | None,
    cache_facts: dict[str, Any],
) -> T:
    """Plan, answer from the client's response cache if it may, else walk the plan."""
    run = await _Run.start(request, breaker)
    key = run.cache_key(cache, **cache_facts)
    hit = response_cache.get_cached_response(key)
    if hit is not None:
        return replace(hit, routing=run.routed_info(cache_hit=True))
    result, step = await run.walk(attempt)
    answer = routed(result, step.provider, result.model or step.model, run.routed_info())
    response_cache.store_response(key, answer, ttl_seconds=cache.ttl_seconds if cache else 0)
    return answer


async def stream_call(
    *,
    request: RouteRequest,
    chat: ChatRequest,
    breaker: CircuitBreaker | None = None,
    started: Callable[[RouteStep, RoutingInfo], None] | None = None,
) -> AsyncIterator[ChatDelta | StreamCompleted]:
    """Deltas, then one `StreamCompleted`; closing it closes the upstream stream.

    `started` hears which step answered as soon as its first event arrived, for
    a door that names the route before the answer (response headers)."""
    run = await _Run.start(request, breaker)
    (first, events), step = await run.walk(_stream_opener(chat))
    if started is not None:
        started(step, run.info())
    event = first
    async with aclosing(events):
        try:
            while not isinstance(event, ChatDone):
                yield event
                event = await anext(events)
        except UpstreamError as exc:
            run.record_mid_stream_failure(step, exc)
            exc.routing = run.info()
            raise
    info = run.routed_info()
    routed = RoutedChat(event.result, step.provider, event.result.model or step.model, info)
    yield StreamCompleted(routed)


def _stream_opener(chat: ChatRequest) -> Attempter:
    async def open_stream(adapter: ProviderAdapter, step: RouteStep, fault: FaultSpec | None):
        """Open the stream and wait for its first event, so failing early can retry."""
        events = adapter.stream_chat(replace(chat, model=step.model))
        if fault is not None:
            events = break_stream(events, fault, step.provider)
        try:
            return await anext(events), events
        except BaseException:
            await events.aclose()
            raise

    return open_stream


class _Run:
    """One call's journey through its plan: attempts, fallback reason, deadline."""

    def __init__(
        self,
        request: RouteRequest,
        plan: RoutePlan,
        snapshot: Snapshot,
        breaker: CircuitBreaker,
        breakers: BreakerReading,
    ) -> None:
        self.request, self.plan, self.snapshot, self.breaker = request, plan, snapshot, breaker
        self.breakers = breakers  # as read before planning: clean ones need no more reads
        self.trials: set[str] = set()  # providers whose half-open trial this call holds
        self.attempts: list[Attempt] = []
        self.fallback_reason: str | None = None
        self.answered_by: RouteStep | None = None
        self.deadline = time.monotonic() + settings.ROUTING_CALL_DEADLINE_SECONDS
        self.rng = random.Random()

    @classmethod
    async def start(cls, request: RouteRequest, breaker: CircuitBreaker | None) -> _Run:
        snapshot = await acurrent_snapshot()
        breaker = breaker or CircuitBreaker()
        try:
            breakers = breaker.read(snapshot.providers)
        except ConnectionError:  # no shared state: every circuit closed, nothing to clear
            breakers = BreakerReading(dict.fromkeys(snapshot.providers, CircuitState.CLOSED))
            breakers.clean.update(snapshot.providers)
        plan = plan_call(request, snapshot, breakers.states)
        if not plan.steps:
            refusal = _no_route(request, plan)
            refusal.routing = RoutingInfo(plan, "", (), None, False)  # what was considered
            raise refusal
        return cls(request, plan, snapshot, breaker, breakers)

    async def walk(self, attempt: Attempter) -> tuple[Any, RouteStep]:
        """The plan's answer; a failure carries the route so far as `exc.routing`."""
        try:
            return await self._walk(attempt)
        except UpstreamError as exc:
            exc.routing = self.info()
            raise

    async def _walk(self, attempt: Attempter) -> tuple[Any, RouteStep]:
        failure: UpstreamError | None = None
        for step in self.plan.steps:
            if not self.breakers.is_clean(step.provider) and not self._admitted(step.provider):
                self.attempts.append(Attempt(step.provider, step.model, "skipped: circuit open", 0))
                continue
            try:
                result = await self.try_step(step, attempt)
            except DeadlineExceeded:
                raise
            except UpstreamError as exc:
                if error_class(exc) not in step.move_on:
                    raise
                failure = exc
                self.fallback_reason = f"{step.provider}/{step.model}: {error_class(exc)}"
                FALLBACKS.labels(self.request.capability, step.provider, error_class(exc)).inc()
                continue
            self.answered_by = step
            return result, step
        raise failure or UpstreamTemporary("every planned provider's circuit is open")

    async def try_step(self, step: RouteStep, attempt: Attempter) -> Any:
        retries = self.snapshot.providers[step.provider].retry_attempts
        for retry in range(retries + 1):
            try:
                return await self.attempt_once(step, attempt)
            except DeadlineExceeded:
                raise
            except UpstreamTemporary:
                pause = min(_backoff(retry, self.rng), self.remaining())
                if retry >= retries or pause <= 0:
                    raise
                RETRIES.labels(step.provider).inc()
                await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def attempt_once(self, step: RouteStep, attempt: Attempter) -> Any:
        if not tracing_enabled():  # the span's context manager alone costs microseconds
            return await self._attempt_once(step, attempt)
        with child_span("upstream attempt", kind=SpanKind.CLIENT, **{
            "llmcaller.provider": step.provider, "llmcaller.model": step.model,
        }) as span:  # fmt: skip
            try:
                return await self._attempt_once(step, attempt)
            except DeadlineExceeded:
                mark_failed(span, "TIMEOUT")
                raise
            except UpstreamError as exc:
                mark_failed(span, error_class(exc))
                raise

    async def _attempt_once(self, step: RouteStep, attempt: Attempter) -> Any:
        fault = pick_fault(self.snapshot.faults, step.provider, step.model, time.time(), self.rng)
        adapter = _adapter(self.snapshot, step)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.remaining()):
                if fault is not None:
                    await inject_fault(fault, step.provider)
                result = await attempt(adapter, step, fault)
        except TimeoutError:
            self._record(step, "TIMEOUT", started, fault)
            raise DeadlineExceeded("the call's deadline passed") from None
        except UpstreamError as exc:
            self._record(step, error_class(exc), started, fault)
            self._count_failure(step, exc)
            raise
        self._record(step, "ok", started, fault)
        if not self.breakers.is_clean(step.provider):
            trial = step.provider in self.trials
            self.trials.discard(step.provider)
            try:
                self.breaker.record_success(step.provider, trial=trial)
            except ConnectionError:
                pass  # the circuit closes on the next success the cache hears of
        return result

    def _admitted(self, provider: str) -> bool:
        try:
            admission = self.breaker.admit(provider)
        except ConnectionError:
            return True  # circuits read closed while the cache is down (fail open)
        if admission is CircuitState.HALF_OPEN:
            self.trials.add(provider)
        return admission is not None

    def record_mid_stream_failure(self, step: RouteStep, exc: UpstreamError) -> None:
        outcome = f"{error_class(exc)} mid-stream"
        self.attempts.append(Attempt(step.provider, step.model, outcome, 0))
        attempt_counter(step.provider, step.model, outcome).inc()
        self._count_failure(step, exc)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def cache_key(self, policy: CachePolicy | None, **facts: Any) -> str | None:
        if policy is None or policy.ttl_seconds <= 0:
            return None
        return response_cache.response_cache_key(
            client=policy.client, request=self.request, config_hash=self.snapshot.config_hash,
            **facts,
        )  # fmt: skip

    def routed_info(self, *, cache_hit: bool = False) -> RoutingInfo:
        """The routing of an answered call, counted once by its strategy."""
        info = self.info(cache_hit=cache_hit)
        route_counter(self.request.capability, info.strategy, "yes" if cache_hit else "no").inc()
        return info

    def info(self, *, cache_hit: bool = False) -> RoutingInfo:
        strategy = self.plan.strategy or Strategy.FALLBACK
        if self.answered_by is not None and self.answered_by != self.plan.steps[0]:
            strategy = Strategy.FALLBACK
        return RoutingInfo(
            self.plan, str(strategy), tuple(self.attempts), self.fallback_reason, cache_hit
        )

    def _record(self, step: RouteStep, outcome: str, started: float, fault: FaultSpec | None):
        seconds = time.perf_counter() - started
        latency = round(seconds * 1000, 2)
        name = fault.name if fault is not None else None
        attempt_counter(step.provider, step.model, outcome).inc()
        attempt_seconds(step.provider).observe(seconds)
        self.attempts.append(Attempt(step.provider, step.model, outcome, latency, name))

    def _count_failure(self, step: RouteStep, exc: UpstreamError) -> None:
        # Only failures of the provider count against its circuit: a refused
        # request (PERMANENT) says nothing about the provider's health.
        if error_class(exc) != "PERMANENT":
            self.breakers.failed(step.provider)
            try:
                self.breaker.record_failure(step.provider)
            except ConnectionError:
                pass  # uncounted while the cache is down (fail open)


def _adapter(snapshot: Snapshot, step: RouteStep) -> ProviderAdapter:
    provider = snapshot.providers[step.provider]
    return adapter_class(provider.kind)(provider.to_config(), shared_client())


def _backoff(retry: int, rng: random.Random) -> float:
    base = settings.ROUTING_RETRY_BACKOFF_SECONDS * 2**retry
    return min(base * rng.uniform(0.5, 1.5), MAX_BACKOFF)


def _no_route(request: RouteRequest, plan: RoutePlan) -> Exception:
    """Why nothing could be planned: the caller's pin, the configuration, or health."""
    if request.provider or request.model:
        reasons = "; ".join(f"{c.provider}/{c.model}: {c.skipped}" for c in plan.considered)
        return RouteRefused(f"The pinned route cannot serve {request.capability} ({reasons}).")
    if not plan.considered:
        return RouteMisconfigured(f"No model is configured to serve {request.capability}.")
    return UpstreamTemporary(f"No model for {request.capability} is available right now.")
