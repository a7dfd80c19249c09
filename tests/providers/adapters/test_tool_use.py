"""Tool use through the OpenAI-shaped adapters, against the sandbox over loopback."""

from __future__ import annotations

import json

import httpx
import pytest

from providers.adapters.lmstudio import LMStudioAdapter
from providers.http import UpstreamClient, build_client
from providers.types import (
    ChatDelta,
    ChatDone,
    ChatMessage,
    ChatRequest,
    ProviderConfig,
    Tool,
    ToolCall,
    ToolChoice,
)
from tests.providers.adapters.support import build
from tests.sandbox import SandboxUpstream

WEATHER = Tool(
    "get_weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
ASK = ChatRequest(
    "qwen2.5-7b-instruct", (ChatMessage("user", "Paris"),), tools=(WEATHER,),
    tool_choice=ToolChoice("auto"),
)  # fmt: skip


def _adapter(url: str, client: UpstreamClient) -> LMStudioAdapter:
    return LMStudioAdapter(ProviderConfig("lms", "lmstudio", url, 5.0), client)


async def test_a_chat_offering_tools_gets_the_tool_call(upstream: SandboxUpstream) -> None:
    async with build_client() as client:
        result = await _adapter(upstream.url, client).chat(ASK)
    assert result.finish_reason == "tool_calls"
    [call] = result.message.tool_calls
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}


async def test_a_tool_result_goes_back_and_gets_a_text_answer(upstream: SandboxUpstream) -> None:
    call = ToolCall("call_1", "get_weather", '{"city":"Paris"}')
    history = (
        ChatMessage("user", "Paris"),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "sunny, 21 C", tool_call_id="call_1"),
    )
    request = ChatRequest("qwen2.5-7b-instruct", history, tools=(WEATHER,))
    async with build_client() as client:
        result = await _adapter(upstream.url, client).chat(request)
    assert result.message.content == "Sandbox reply to tool result: sunny, 21 C"
    assert result.finish_reason == "stop"


async def test_a_streamed_tool_call_arrives_in_pieces_and_adds_up(
    upstream: SandboxUpstream,
) -> None:
    async with build_client() as client:
        events = [e async for e in _adapter(upstream.url, client).stream_chat(ASK)]
    pieces = [p for e in events if isinstance(e, ChatDelta) for p in e.tool_calls]
    assert pieces[0].id and pieces[0].name == "get_weather"
    assert len(pieces) == 3  # the head, then the arguments in two pieces
    done = events[-1]
    assert isinstance(done, ChatDone)
    [call] = done.result.message.tool_calls
    assert (call.id, json.loads(call.arguments)) == (pieces[0].id, {"city": "Paris"})
    assert done.result.finish_reason == "tool_calls"


async def test_tool_choice_none_gets_text(upstream: SandboxUpstream) -> None:
    request = ChatRequest(ASK.model, ASK.messages, tools=(WEATHER,), tool_choice=ToolChoice("none"))
    async with build_client() as client:
        result = await _adapter(upstream.url, client).chat(request)
    assert result.message.tool_calls == ()
    assert result.message.content == "Sandbox reply to: Paris"


@pytest.mark.parametrize("omit", [False, True])
async def test_a_stream_without_usage_gets_an_estimate(upstream: SandboxUpstream, omit) -> None:
    upstream.set(omit_stream_usage=omit)
    request = ChatRequest("qwen2.5-7b-instruct", (ChatMessage("user", "one two three"),))
    async with build_client() as client:
        events = [e async for e in _adapter(upstream.url, client).stream_chat(request)]
    usage = events[-1].result.usage
    assert usage.estimated is omit
    if omit:  # providers.usage_estimate: ceil(13 / 4) + 4 for the message; a 31-character reply
        assert (usage.input_tokens, usage.output_tokens) == (4 + 4, 8)
    else:  # the sandbox's word counts
        assert (usage.input_tokens, usage.output_tokens) == (3, 6)


async def test_tools_tool_choice_and_response_format_go_out_in_openais_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]}
        return httpx.Response(200, json=answer)

    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    request = ChatRequest(
        "gpt", (ChatMessage("user", "x"),), tools=(WEATHER,),
        tool_choice=ToolChoice("function", "get_weather"), response_format=schema,
    )  # fmt: skip
    await build(LMStudioAdapter, handler, kind="lmstudio").chat(request)
    sent = json.loads(seen[0].content)
    assert sent["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "The weather in a city.",
        "parameters": WEATHER.parameters,
    }}]  # fmt: skip
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["response_format"] == schema
