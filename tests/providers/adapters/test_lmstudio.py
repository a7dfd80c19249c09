"""The LM Studio adapter against the sandbox upstream, over real loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from providers.adapters.lmstudio import LMStudioAdapter
from providers.errors import (
    UpstreamAuthRejected,
    UpstreamRateLimited,
    UpstreamTemporary,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from providers.http import UpstreamClient, build_client
from providers.types import (
    ChatDelta,
    ChatDone,
    ChatMessage,
    ChatRequest,
    DiscoveredModel,
    EmbedRequest,
    ProviderConfig,
    Usage,
)
from tests.providers.adapters.support import build
from tests.sandbox import SandboxUpstream, start_sandbox

CHAT = ChatRequest(
    model="qwen2.5-7b-instruct",
    messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "Name a colour.")),
)
EMBED = EmbedRequest(model="text-embedding-nomic-embed-text-v1.5", inputs=("a", "b c"))


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    async with build_client() as client:  # the gateway's own pool
        yield client


def adapter_for(url: str, client: UpstreamClient, timeout: float = 2.0) -> LMStudioAdapter:
    config = ProviderConfig(key="lms", kind="lmstudio", base_url=url, timeout=timeout)
    return LMStudioAdapter(config, client)


@pytest.fixture
def adapter(upstream: SandboxUpstream, client: UpstreamClient) -> LMStudioAdapter:
    return adapter_for(upstream.url, client)


def by_id(models: list[DiscoveredModel]) -> dict[str, DiscoveredModel]:
    return {model.model_id: model for model in models}


# --- discovery ------------------------------------------------------------------


async def test_it_discovers_through_api_v1_first(
    upstream: SandboxUpstream, adapter: LMStudioAdapter
) -> None:
    models = by_id(await adapter.list_models())
    qwen = models["qwen2.5-7b-instruct"]
    assert (qwen.kind, qwen.loaded, qwen.tool_use) == ("llm", True, True)
    assert (qwen.max_context_length, qwen.loaded_context_length) == (32768, 8192)
    assert qwen.quantization == "Q4_K_M"
    assert qwen.architecture == "qwen2"
    llama = models["meta-llama-3.1-8b-instruct"]
    assert (llama.loaded, llama.loaded_context_length) == (False, None)
    vlm = models["qwen2-vl-7b-instruct"]
    assert (vlm.kind, vlm.vision, vlm.capabilities) == ("vlm", True, ("chat", "chatStream"))
    embedder = models["text-embedding-nomic-embed-text-v1.5"]
    assert (embedder.kind, embedder.capabilities) == ("embeddings", ("embed",))
    assert upstream.requests() == {"/api/v1/models": 1}


async def test_it_falls_back_to_api_v0_on_a_v0_only_server(
    upstream: SandboxUpstream, adapter: LMStudioAdapter
) -> None:
    upstream.set(v0_only=True)
    models = by_id(await adapter.list_models())
    qwen = models["qwen2.5-7b-instruct"]
    assert (qwen.loaded, qwen.loaded_context_length, qwen.max_context_length) == (True, 8192, 32768)
    assert (qwen.quantization, qwen.tool_use) == ("Q4_K_M", True)
    assert models["meta-llama-3.1-8b-instruct"].loaded is False
    assert models["qwen2-vl-7b-instruct"].vision is True
    assert models["text-embedding-nomic-embed-text-v1.5"].kind == "embeddings"
    assert upstream.requests() == {"/api/v1/models": 1, "/api/v0/models": 1}


async def test_it_falls_back_to_v1_models_on_a_legacy_server(
    upstream: SandboxUpstream, adapter: LMStudioAdapter
) -> None:
    upstream.set(legacy=True)
    models = by_id(await adapter.list_models())
    assert len(models) == 4
    # Plain /v1/models says nothing about state; only the id hints at the kind.
    assert models["qwen2.5-7b-instruct"].loaded is None
    assert models["text-embedding-nomic-embed-text-v1.5"].kind == "embeddings"
    assert upstream.requests() == {"/api/v1/models": 1, "/api/v0/models": 1, "/v1/models": 1}


# --- calls ----------------------------------------------------------------------


async def test_it_chats(adapter: LMStudioAdapter) -> None:
    result = await adapter.chat(CHAT)
    assert result.message == ChatMessage("assistant", "Sandbox reply to: Name a colour.")
    assert result.model == "qwen2.5-7b-instruct"
    assert result.usage == Usage(input_tokens=5, output_tokens=6)


async def test_a_call_after_the_upstream_closed_its_idle_connection_opens_another(
    client: UpstreamClient,
) -> None:
    # Many servers close an idle connection sooner than the pool would (uvicorn's
    # and Node's default is 5 s; the pool keeps one 15 s): the pool must notice.
    sandbox = start_sandbox("--keep-alive-timeout", "1")
    try:
        adapter = adapter_for(sandbox.url, client)
        await adapter.chat(CHAT)
        await asyncio.sleep(2.5)  # the sandbox has closed the pooled connection by now
        result = await adapter.chat(CHAT)
        served = sandbox.requests()
    finally:
        sandbox.stop()
    assert result.message == ChatMessage("assistant", "Sandbox reply to: Name a colour.")
    assert served == {"/v1/chat/completions": 2}


async def test_it_streams_deltas_then_done_with_usage(adapter: LMStudioAdapter) -> None:
    events = [event async for event in adapter.stream_chat(CHAT)]
    deltas, done = events[:-1], events[-1]
    assert len(deltas) > 1 and all(isinstance(event, ChatDelta) for event in deltas)
    assert "".join(delta.content for delta in deltas) == "Sandbox reply to: Name a colour."
    assert isinstance(done, ChatDone)
    assert done.result.message.content == "Sandbox reply to: Name a colour."
    assert done.result.usage == Usage(input_tokens=5, output_tokens=6)


async def test_it_embeds(adapter: LMStudioAdapter) -> None:
    result = await adapter.embed(EMBED)
    assert len(result.vectors) == 2 and all(len(vector) == 8 for vector in result.vectors)
    assert result.usage == Usage(input_tokens=3)
    sized = await adapter.embed(EmbedRequest(model=EMBED.model, inputs=("a",), dimensions=16))
    assert len(sized.vectors[0]) == 16
    assert sized.vectors[0] != result.vectors[0]


# --- failures -------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_5xx_is_temporary(
    upstream: SandboxUpstream, adapter: LMStudioAdapter, status: int
) -> None:
    upstream.set(error_status=status)
    with pytest.raises(UpstreamTemporary) as caught:
        await adapter.chat(CHAT)
    assert caught.value.status == status
    # Discovery must not read a 5xx on /api/v1 as "older server" and move on.
    with pytest.raises(UpstreamTemporary):
        await adapter.list_models()


async def test_a_429_is_rate_limited_with_retry_after(
    upstream: SandboxUpstream, adapter: LMStudioAdapter
) -> None:
    upstream.set(rate_limit_retry_after=7)
    with pytest.raises(UpstreamRateLimited) as caught:
        await adapter.chat(CHAT)
    assert caught.value.retry_after == 7.0
    with pytest.raises(UpstreamRateLimited):
        [event async for event in adapter.stream_chat(CHAT)]


async def test_a_slow_upstream_times_out(upstream: SandboxUpstream, client: UpstreamClient) -> None:
    upstream.set(latency_ms=1000)
    with pytest.raises(UpstreamTimeout):
        await adapter_for(upstream.url, client, timeout=0.2).chat(CHAT)


@pytest.mark.parametrize("operation", ["chat", "stream_chat", "embed", "list_models"])
async def test_a_malformed_body_is_temporary(
    upstream: SandboxUpstream, adapter: LMStudioAdapter, operation: str
) -> None:
    upstream.set(malformed=True)
    with pytest.raises(UpstreamTemporary, match="malformed"):
        if operation == "stream_chat":
            [event async for event in adapter.stream_chat(CHAT)]
        elif operation == "embed":
            await adapter.embed(EMBED)
        elif operation == "chat":
            await adapter.chat(CHAT)
        else:
            await adapter.list_models()


async def test_a_broken_stream_is_temporary_after_the_deltas_it_sent(
    upstream: SandboxUpstream, adapter: LMStudioAdapter
) -> None:
    upstream.set(break_stream_after=2)
    received = []
    with pytest.raises(UpstreamTemporary) as caught:
        async for event in adapter.stream_chat(CHAT):
            received.append(event)
    assert not isinstance(caught.value, UpstreamUnreachable)
    assert [event.content for event in received] == ["Sandbox", " reply"]


async def test_a_down_upstream_is_unreachable(down_url: str, client: UpstreamClient) -> None:
    adapter = adapter_for(down_url, client)
    with pytest.raises(UpstreamUnreachable):
        await adapter.chat(CHAT)
    with pytest.raises(UpstreamUnreachable):
        await adapter.list_models()


async def test_a_refused_credential_is_auth_rejected(
    upstream: SandboxUpstream, client: UpstreamClient
) -> None:
    upstream.set(require_api_key="right")
    config = ProviderConfig("lms", "lmstudio", upstream.url, 2.0, credential="wrong")
    with pytest.raises(UpstreamAuthRejected):
        await LMStudioAdapter(config, client).list_models()
    good = ProviderConfig("lms", "lmstudio", upstream.url, 2.0, credential="right")
    assert len(await LMStudioAdapter(good, client).list_models()) == 4


async def test_it_treats_a_200_unexpected_endpoint_answer_as_a_missing_api() -> None:
    # Real LM Studio answers an endpoint it lacks with 200 and an error body
    # ("Returning 200 anyway"); the sandbox answers 404, so this one is mocked.
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v0/models":
            return httpx.Response(200, json={"object": "list", "data": []})
        error = f"Unexpected endpoint or method. (GET {request.url.path})"
        return httpx.Response(200, json={"error": error})

    adapter = build(LMStudioAdapter, answer, kind="lmstudio", base_url="http://lmstudio.test")
    assert await adapter.list_models() == []
