"""The OpenAI adapter against documented OpenAI API shapes."""

from __future__ import annotations

import httpx

from providers.adapters.openai import OpenAIAdapter
from providers.types import ChatDelta, ChatDone, EmbedRequest, Usage
from tests.providers.adapters.recorded import openai as recorded
from tests.providers.adapters.support import (
    SENTINEL,
    Handler,
    body,
    build,
    chat_request,
    collect,
    sse,
)


def adapter_for(handler: Handler) -> OpenAIAdapter:
    return build(OpenAIAdapter, handler, kind="openai", base_url="https://api.openai.test/")


async def test_it_sends_the_credential_as_a_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=recorded.CHAT_COMPLETION)

    await adapter_for(handler).chat(chat_request())
    assert seen[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert str(seen[0].url) == "https://api.openai.test/v1/chat/completions"


async def test_it_sends_messages_and_options_in_the_openai_shape() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(body(request))
        return httpx.Response(200, json=recorded.CHAT_COMPLETION)

    request = chat_request(
        ("system", "Be brief."), ("user", "Capital of France?"), temperature=0.2, max_tokens=50
    )
    await adapter_for(handler).chat(request)
    assert seen[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert (seen[0]["temperature"], seen[0]["max_tokens"], seen[0]["stream"]) == (0.2, 50, False)


async def test_it_parses_the_answer_and_its_usage() -> None:
    adapter = adapter_for(lambda request: httpx.Response(200, json=recorded.CHAT_COMPLETION))
    result = await adapter.chat(chat_request())
    assert result.message.content == "Paris."
    assert result.model == "gpt-4.1-2025-04-14"
    assert result.usage == Usage(input_tokens=19, output_tokens=2)


async def test_it_asks_for_usage_when_streaming() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(body(request))
        return sse(recorded.CHAT_STREAM)

    await collect(adapter_for(handler).stream_chat(chat_request()))
    assert seen[0]["stream"] is True
    assert seen[0]["stream_options"] == {"include_usage": True}


async def test_it_streams_deltas_then_a_done_with_the_final_usage_chunk() -> None:
    adapter = adapter_for(lambda request: sse(recorded.CHAT_STREAM))
    events = await collect(adapter.stream_chat(chat_request()))
    assert events[:-1] == [ChatDelta("Par"), ChatDelta("is.")]
    done = events[-1]
    assert isinstance(done, ChatDone)
    assert done.result.message.content == "Paris."
    assert done.result.usage == Usage(input_tokens=19, output_tokens=2)


async def test_it_orders_embedding_vectors_by_their_index() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=recorded.EMBEDDINGS)

    request = EmbedRequest(model="text-embedding-3-small", inputs=("a", "b"), dimensions=3)
    result = await adapter_for(handler).embed(request)
    assert seen[0].url.path == "/v1/embeddings"
    assert body(seen[0]) == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "dimensions": 3,
    }
    assert result.vectors == ((0.1, 0.2, -0.3), (0.5, -0.25, 0.125))
    assert result.usage.input_tokens == 8


async def test_it_lists_chat_and_embedding_models_and_drops_the_rest() -> None:
    adapter = adapter_for(lambda request: httpx.Response(200, json=recorded.MODELS))
    models = {model.model_id: model for model in await adapter.list_models()}
    assert set(models) == {"gpt-4.1", "o3-mini", "text-embedding-3-small"}
    assert models["gpt-4.1"].capabilities == ("chat", "chatStream")
    assert models["text-embedding-3-small"].kind == "embeddings"
    assert models["text-embedding-3-small"].capabilities == ("embed",)
