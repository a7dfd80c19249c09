"""Tool use and structured output in the OpenAI chat shape, both ways.

The base adapter speaks OpenAI's `/v1/chat/completions` for every kind but
Anthropic; this module holds the parts of that shape beyond plain text: the
messages that carry tool calls and their results, the `tools`, `tool_choice`
and `response_format` fields, and tool calls read back from an answer or a
stream's deltas. Arguments stay JSON text, as OpenAI sends them.
"""

from __future__ import annotations

from typing import Any

from providers.types import ChatMessage, ChatRequest, ToolCall, ToolCallDelta, ToolChoice

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter"})


def message_json(message: ChatMessage) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [tool_call_json(call) for call in message.tool_calls]
        data["content"] = message.content or None  # OpenAI's own answers say null
    if message.tool_call_id is not None:
        data["tool_call_id"] = message.tool_call_id
    return data


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def tool_fields(request: ChatRequest) -> dict[str, Any]:
    """`tools`, `tool_choice` and `response_format`, for those the request sets."""
    fields: dict[str, Any] = {}
    if request.tools:
        fields["tools"] = [
            {"type": "function", "function": _function_json(tool)} for tool in request.tools
        ]
    if request.tool_choice is not None:
        fields["tool_choice"] = tool_choice_json(request.tool_choice)
    if request.response_format is not None:
        fields["response_format"] = dict(request.response_format)
    return fields


def tool_choice_json(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode == "function":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def parse_tool_calls(message: dict[str, Any]) -> tuple[ToolCall, ...]:
    calls = message.get("tool_calls") or []
    return tuple(
        ToolCall(
            id=str(call["id"]),
            name=str(call["function"]["name"]),
            arguments=str(call["function"].get("arguments") or ""),
        )
        for call in calls
    )


def parse_tool_call_deltas(delta: dict[str, Any]) -> tuple[ToolCallDelta, ...]:
    pieces = []
    for position, call in enumerate(delta.get("tool_calls") or []):
        function = call.get("function") or {}
        pieces.append(
            ToolCallDelta(
                index=int(call.get("index", position)),
                id=call.get("id"),
                name=function.get("name"),
                arguments=str(function.get("arguments") or ""),
            )
        )
    return tuple(pieces)


def finish_reason(value: Any, default: str = "stop") -> str:
    return value if value in FINISH_REASONS else default


def _function_json(tool: Any) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = dict(tool.parameters)
    return function
