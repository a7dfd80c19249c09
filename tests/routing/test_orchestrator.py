"""The orchestrator against the sandbox: retries, what is not retried, stream closing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async

from providers.errors import UpstreamAuthRejected, UpstreamRateLimited, UpstreamTemporary
from providers.http import close_shared_client, open_shared_client
from providers.models import Capability
from providers.types import ChatDelta, ChatMessage, ChatRequest
from routing.orchestrator import execute_call, stream_call
from routing.types import RouteQuery, StreamCompleted
from tests.factories import ModelFactory, ProviderFactory

MODEL = "qwen2.5-7b-instruct"
CHAT = ChatRequest("", (ChatMessage("user", "hi"),))


@pytest.fixture
async def shared_client() -> AsyncIterator[None]:
    await open_shared_client()
    yield
    await close_shared_client()


@pytest.fixture
def sandbox_route(upstream, transactional_db, settings):
    settings.LLMCALLER_RETRY_BACKOFF_SECONDS = 0.01
    provider = ProviderFactory(key="sandbox", base_url=upstream.url, retry_attempts=2)
    ModelFactory(provider=provider, model_id=MODEL)
    return upstream


async def test_a_call_is_routed_and_reports_its_route(sandbox_route, shared_client):
    routed = await execute_call(query=RouteQuery(Capability.CHAT), chat=CHAT)

    assert routed.result.message.content == "Sandbox reply to: hi"
    assert (routed.provider, routed.model) == ("sandbox", MODEL)
    assert routed.routing.strategy == "capability-default"


async def test_a_temporary_failure_is_retried_retry_attempts_times(sandbox_route, shared_client):
    await sync_to_async(sandbox_route.set)(error_status=502)

    with pytest.raises(UpstreamTemporary):
        await execute_call(query=RouteQuery(Capability.CHAT), chat=CHAT)

    counts = await sync_to_async(sandbox_route.requests)()
    assert counts["/v1/chat/completions"] == 3


@pytest.mark.parametrize(
    ("switch", "error"),
    [
        ({"rate_limit_retry_after": 5}, UpstreamRateLimited),
        ({"require_api_key": "k"}, UpstreamAuthRejected),
    ],
)
async def test_throttling_and_refused_credentials_are_not_retried(
    sandbox_route, shared_client, switch, error
):
    await sync_to_async(sandbox_route.set)(**switch)

    with pytest.raises(error):
        await execute_call(query=RouteQuery(Capability.CHAT), chat=CHAT)

    assert (await sync_to_async(sandbox_route.requests)())["/v1/chat/completions"] == 1


async def test_a_stream_yields_deltas_then_its_completion(sandbox_route, shared_client):
    events = [e async for e in stream_call(query=RouteQuery(Capability.CHAT_STREAM), chat=CHAT)]

    assert [type(e) for e in events] == [ChatDelta] * 4 + [StreamCompleted]
    assert events[-1].routed.result.message.content == "Sandbox reply to: hi"
    assert events[-1].routed.routing.capability == "chatStream"


async def test_a_stream_broken_after_its_first_delta_is_not_retried(sandbox_route, shared_client):
    await sync_to_async(sandbox_route.set)(break_stream_after=1)
    seen = []

    with pytest.raises(UpstreamTemporary):
        async for event in stream_call(query=RouteQuery(Capability.CHAT_STREAM), chat=CHAT):
            seen.append(event)

    assert len(seen) == 1
    assert (await sync_to_async(sandbox_route.requests)())["/v1/chat/completions"] == 1
