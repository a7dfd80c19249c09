"""The Anthropic adapter against documented Messages and Models API shapes."""

from __future__ import annotations

import httpx
import pytest

from providers.adapters.anthropic import ANTHROPIC_VERSION, AnthropicAdapter
from providers.errors import (
    UnsupportedCapability,
    UpstreamAuthRejected,
    UpstreamRateLimited,
    UpstreamTemporary,
)
from providers.types import ChatDelta, ChatDone, EmbedRequest, Usage
from tests.providers.adapters.recorded import anthropic as recorded
from tests.providers.adapters.support import (
    SENTINEL,
    UPSTREAM_SECRET,
    Handler,
    assert_no_leak,
    body,
    build,
    chat_request,
    collect,
    sse,
)


def adapter_for(handler: Handler) -> AnthropicAdapter:
    return build(AnthropicAdapter, handler, kind="anthropic")


def capture(response: httpx.Response) -> tuple[list[httpx.Request], AnthropicAdapter]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    return seen, adapter_for(handler)


async def test_it_sends_the_key_in_x_api_key_with_a_pinned_version() -> None:
    seen, adapter = capture(httpx.Response(200, json=recorded.MESSAGE))
    await adapter.chat(chat_request())
    assert seen[0].url.path == "/v1/messages"
    assert seen[0].headers["x-api-key"] == SENTINEL
    assert seen[0].headers["anthropic-version"] == ANTHROPIC_VERSION
    assert "authorization" not in seen[0].headers


async def test_it_moves_system_messages_to_the_top_level_system_field() -> None:
    seen, adapter = capture(httpx.Response(200, json=recorded.MESSAGE))
    request = chat_request(("system", "Be brief."), ("system", "Use English."), ("user", "Hi"))
    await adapter.chat(request)
    sent = body(seen[0])
    assert sent["system"] == "Be brief.\n\nUse English."
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]


async def test_it_defaults_max_tokens_to_1024_because_anthropic_requires_it() -> None:
    seen, adapter = capture(httpx.Response(200, json=recorded.MESSAGE))
    await adapter.chat(chat_request())
    await adapter.chat(chat_request(max_tokens=99, temperature=0.5))
    assert body(seen[0])["max_tokens"] == 1024
    assert "system" not in body(seen[0])
    assert (body(seen[1])["max_tokens"], body(seen[1])["temperature"]) == (99, 0.5)


async def test_it_clamps_temperature_to_the_range_anthropic_accepts() -> None:
    seen, adapter = capture(httpx.Response(200, json=recorded.MESSAGE))
    await adapter.chat(chat_request(temperature=1.7))
    assert body(seen[0])["temperature"] == 1.0


async def test_it_joins_text_blocks_and_reads_usage() -> None:
    _seen, adapter = capture(httpx.Response(200, json=recorded.MESSAGE))
    result = await adapter.chat(chat_request())
    assert result.message.content == "Paris is the capital of France."
    assert result.model == "claude-sonnet-4-20250514"
    assert result.usage == Usage(input_tokens=21, output_tokens=7)


async def test_it_normalizes_stream_events_to_deltas_and_done() -> None:
    seen, adapter = capture(sse(recorded.STREAM))
    events = await collect(adapter.stream_chat(chat_request()))
    assert body(seen[0])["stream"] is True
    assert events[:-1] == [ChatDelta("Paris"), ChatDelta(" it is.")]
    done = events[-1]
    assert isinstance(done, ChatDone)
    assert done.result.message.content == "Paris it is."
    # input from message_start, output from message_delta
    assert done.result.usage == Usage(input_tokens=21, output_tokens=4)


async def test_it_treats_a_stream_without_message_stop_as_temporary() -> None:
    _seen, adapter = capture(sse(recorded.STREAM.split("event: message_stop")[0]))
    with pytest.raises(UpstreamTemporary):
        await collect(adapter.stream_chat(chat_request()))


async def test_it_maps_overloaded_error_event_to_temporary() -> None:
    stream = recorded.STREAM_START + recorded.error_event("overloaded_error", UPSTREAM_SECRET)
    _seen, adapter = capture(sse(stream))
    received = []
    with pytest.raises(UpstreamTemporary) as caught:
        async for event in adapter.stream_chat(chat_request()):
            received.append(event)
    assert received == [ChatDelta("Paris"), ChatDelta(" it is.")]
    assert "overloaded" in caught.value.detail
    assert_no_leak(caught.value)


async def test_it_maps_rate_limit_error_event_to_rate_limited() -> None:
    stream = recorded.STREAM_START + recorded.error_event("rate_limit_error", UPSTREAM_SECRET)
    _seen, adapter = capture(sse(stream))
    with pytest.raises(UpstreamRateLimited) as caught:
        await collect(adapter.stream_chat(chat_request()))
    assert_no_leak(caught.value)


async def test_it_maps_an_unknown_error_event_to_temporary_in_its_own_words() -> None:
    stream = recorded.STREAM_START + recorded.error_event("novel_error", UPSTREAM_SECRET)
    _seen, adapter = capture(sse(stream))
    with pytest.raises(UpstreamTemporary) as caught:
        await collect(adapter.stream_chat(chat_request()))
    assert "novel_error" not in caught.value.detail
    assert_no_leak(caught.value)


async def test_it_never_leaks_the_key_when_anthropic_rejects_it() -> None:
    rejection = {"type": "error", "error": {"type": "authentication_error", "message": SENTINEL}}
    _seen, adapter = capture(httpx.Response(401, json=rejection))
    with pytest.raises(UpstreamAuthRejected) as caught:
        await adapter.chat(chat_request())
    assert_no_leak(caught.value)


async def test_it_refuses_embeddings_without_calling_upstream() -> None:
    seen, adapter = capture(httpx.Response(200, json={}))
    with pytest.raises(UnsupportedCapability):
        await adapter.embed(EmbedRequest(model="claude-sonnet-4-20250514", inputs=("a",)))
    assert seen == []


async def test_it_lists_models_for_chat_and_streaming() -> None:
    seen, adapter = capture(httpx.Response(200, json=recorded.MODELS))
    models = await adapter.list_models()
    assert seen[0].url.path == "/v1/models"
    assert seen[0].headers["x-api-key"] == SENTINEL
    assert [model.model_id for model in models] == [
        "claude-sonnet-4-20250514",
        "claude-3-5-haiku-20241022",
    ]
    assert all(model.capabilities == ("chat", "chatStream") for model in models)
    assert models[0].description == "Claude Sonnet 4"
    assert (models[0].vision, models[0].kind) == (True, "vlm")
    assert (models[1].vision, models[1].kind) == (False, "llm")
