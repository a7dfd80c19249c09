"""Running a planned call: `execute_call`, `stream_call`, `execute_embed`.

Layered like httpx's `send`: each entry point plans (one thread hop for the
database), then `_try_plan` walks the plan's steps and records why each failed,
and `_try_step` retries a step `retry_attempts` times with a short exponential
backoff, for `UpstreamTemporary` only. A stream is retried and falls back only
until its first event has arrived; after that a failure goes to the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from functools import partial
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings

from providers.adapters import adapter_class
from providers.adapters.base import ProviderAdapter
from providers.errors import UpstreamError, UpstreamPermanent, UpstreamTemporary
from providers.http import shared_client
from providers.types import ChatDelta, ChatDone, ChatRequest, EmbedRequest
from routing.planner import plan_call
from routing.types import (
    RoutedChat,
    RoutedEmbed,
    RoutePlan,
    RouteQuery,
    RouteStep,
    StepFailure,
    StreamCompleted,
)

T = TypeVar("T")
MAX_BACKOFF = 2.0


async def plan(query: RouteQuery) -> RoutePlan:
    return await sync_to_async(plan_call)(
        capability=query.capability,
        provider_key=query.provider_key,
        model_id=query.model_id,
        task=query.task,
    )


async def execute_call(*, query: RouteQuery, chat: ChatRequest) -> RoutedChat:
    route = await plan(query)

    async def attempt(step: RouteStep):
        return await _adapter(step).chat(replace(chat, model=step.model_id))

    result, step, failures = await _try_plan(route, attempt)
    return RoutedChat(result, step.provider.key, result.model, route.info(failures))


async def execute_embed(*, query: RouteQuery, embed: EmbedRequest) -> RoutedEmbed:
    route = await plan(query)

    async def attempt(step: RouteStep):
        return await _adapter(step).embed(replace(embed, model=step.model_id))

    result, step, failures = await _try_plan(route, attempt)
    return RoutedEmbed(result, step.provider.key, result.model, route.info(failures))


async def stream_call(
    *, query: RouteQuery, chat: ChatRequest
) -> AsyncIterator[ChatDelta | StreamCompleted]:
    """Deltas, then one `StreamCompleted`; closing it closes the upstream stream."""
    route = await plan(query)
    opened, step, failures = await _try_plan(route, partial(_open_stream, chat=chat))
    event, events = opened
    async with aclosing(events):
        while not isinstance(event, ChatDone):
            yield event
            event = await anext(events, None)
            if event is None:
                raise UpstreamTemporary(f"{step.provider.key} ended the stream early")
    info = route.info(failures)
    yield StreamCompleted(RoutedChat(event.result, step.provider.key, event.result.model, info))


async def _open_stream(
    step: RouteStep, *, chat: ChatRequest
) -> tuple[ChatDelta | ChatDone, AsyncGenerator]:
    """Open a step's stream and wait for its first event, so failing early can retry."""
    events = _adapter(step).stream_chat(replace(chat, model=step.model_id))
    try:
        first = await anext(events)
    except BaseException:
        await events.aclose()
        raise
    return first, events


async def _try_plan(
    route: RoutePlan, attempt: Callable[[RouteStep], Awaitable[T]]
) -> tuple[T, RouteStep, tuple[StepFailure, ...]]:
    failures: list[StepFailure] = []
    for index, step in enumerate(route.steps):
        try:
            return await _try_step(step, attempt), step, tuple(failures)
        except UpstreamError as exc:
            failures.append(StepFailure(step.label, type(exc).__name__))
            last_step = index == len(route.steps) - 1
            if last_step or isinstance(exc, UpstreamPermanent):
                raise
    raise AssertionError("a plan has at least one step")


async def _try_step(step: RouteStep, attempt: Callable[[RouteStep], Awaitable[T]]) -> T:
    for retry in range(step.retry_attempts + 1):
        try:
            return await attempt(step)
        except UpstreamTemporary:
            if retry >= step.retry_attempts:
                raise
            await asyncio.sleep(_backoff(retry))
    raise AssertionError("unreachable: the last attempt returns or raises")


def _backoff(retry: int) -> float:
    return min(settings.LLMCALLER_RETRY_BACKOFF_SECONDS * 2**retry, MAX_BACKOFF)


def _adapter(step: RouteStep) -> ProviderAdapter:
    return adapter_class(step.provider.kind)(step.provider, shared_client())
