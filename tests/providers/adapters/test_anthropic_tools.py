"""Tool use through the Anthropic adapter: OpenAI's words out, Anthropic's blocks
on the wire (documented Messages API shapes, over httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx

from providers.adapters.anthropic import AnthropicAdapter
from providers.types import ChatDelta, ChatMessage, ChatRequest, Tool, ToolCall, ToolChoice
from tests.providers.adapters.support import body, build, collect, sse

WEATHER = Tool("get_weather", "The weather in a city.", {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
})  # fmt: skip
TOOL_USE_MESSAGE = {
    "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
    "content": [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
    ],
    "stop_reason": "tool_use", "usage": {"input_tokens": 30, "output_tokens": 12},
}  # fmt: skip
TOOL_USE_STREAM = "".join(
    f"event: {kind}\ndata: {json.dumps(data)}\n\n"
    for kind, data in [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_01", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 30}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": "Checking."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": '}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 12}}),
        ("message_stop", {"type": "message_stop"}),
    ]
)  # fmt: skip


def _capture(response: httpx.Response) -> tuple[list[httpx.Request], AnthropicAdapter]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    return seen, build(AnthropicAdapter, handler, kind="anthropic")


async def test_tools_and_tool_choice_go_out_in_anthropics_shape() -> None:
    seen, adapter = _capture(httpx.Response(200, json=TOOL_USE_MESSAGE))
    request = ChatRequest("claude", (ChatMessage("user", "Paris?"),), tools=(WEATHER,),
                          tool_choice=ToolChoice("function", "get_weather"))  # fmt: skip
    await adapter.chat(request)
    sent = body(seen[0])
    assert sent["tools"] == [{
        "name": "get_weather", "description": "The weather in a city.",
        "input_schema": WEATHER.parameters,
    }]  # fmt: skip
    assert sent["tool_choice"] == {"type": "tool", "name": "get_weather"}


async def test_required_becomes_any() -> None:
    seen, adapter = _capture(httpx.Response(200, json=TOOL_USE_MESSAGE))
    request = ChatRequest("claude", (ChatMessage("user", "x"),), tools=(WEATHER,),
                          tool_choice=ToolChoice("required"))  # fmt: skip
    await adapter.chat(request)
    assert body(seen[0])["tool_choice"] == {"type": "any"}


async def test_tool_use_blocks_come_back_as_tool_calls() -> None:
    _seen, adapter = _capture(httpx.Response(200, json=TOOL_USE_MESSAGE))
    result = await adapter.chat(ChatRequest("claude", (ChatMessage("user", "x"),)))
    assert result.finish_reason == "tool_calls"
    assert result.message.content == "Let me check."
    [call] = result.message.tool_calls
    assert (call.id, call.name, json.loads(call.arguments)) == (
        "toolu_01", "get_weather", {"city": "Paris"},
    )  # fmt: skip


async def test_calls_and_results_in_the_history_become_tool_use_and_tool_result_blocks() -> None:
    seen, adapter = _capture(httpx.Response(200, json=TOOL_USE_MESSAGE))
    calls = (ToolCall("toolu_01", "get_weather", '{"city":"Paris"}'),
             ToolCall("toolu_02", "get_weather", '{"city":"Oslo"}'))  # fmt: skip
    history = (
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Paris and Oslo?"),
        ChatMessage("assistant", "", tool_calls=calls),
        ChatMessage("tool", "sunny", tool_call_id="toolu_01"),
        ChatMessage("tool", "rain", tool_call_id="toolu_02"),
    )
    await adapter.chat(ChatRequest("claude", history, tools=(WEATHER,)))
    assert body(seen[0])["messages"] == [
        {"role": "user", "content": "Paris and Oslo?"},
        {"role": "assistant", "content": [
            _tool_use("toolu_01", "Paris"),
            _tool_use("toolu_02", "Oslo"),
        ]},
        # Anthropic wants every result of one turn in the one user message after it.
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "toolu_02", "content": "rain"},
        ]},
    ]  # fmt: skip


def _tool_use(block_id: str, city: str) -> dict:
    return {"type": "tool_use", "id": block_id, "name": "get_weather", "input": {"city": city}}


async def test_a_streamed_tool_use_becomes_tool_call_deltas_numbered_from_zero() -> None:
    _seen, adapter = _capture(sse(TOOL_USE_STREAM))
    events = await collect(adapter.stream_chat(ChatRequest("claude", (ChatMessage("user", "x"),))))
    pieces = [p for e in events[:-1] if isinstance(e, ChatDelta) for p in e.tool_calls]
    assert [(p.index, p.id, p.name) for p in pieces][0] == (0, "toolu_01", "get_weather")
    assert all(p.index == 0 for p in pieces)
    result = events[-1].result
    assert result.message.content == "Checking."
    assert result.finish_reason == "tool_calls"
    [call] = result.message.tool_calls
    assert json.loads(call.arguments) == {"city": "Paris"}
