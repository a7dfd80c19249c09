"""OpenAI's chat shapes to the gateway's request records, and results back.

Plain functions, one per direction: `chat_request` and `route_request` read a
validated `/v1/chat/completions` body; `completion_json`, `chunk_json` and
`usage_json` write `chat.completion` and `chat.completion.chunk` objects.
OpenAI's `developer` role is a system message here.
"""

from __future__ import annotations

from typing import Any

from providers.adapters.openai_wire import tool_call_json
from providers.types import (
    ChatDelta,
    ChatMessage,
    ChatRequest,
    ChatResult,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from routing.names import ModelTarget
from routing.types import Feature, RouteRequest


def chat_messages(rows: list[dict[str, Any]]) -> tuple[ChatMessage, ...]:
    return tuple(
        ChatMessage(
            role="system" if row["role"] == "developer" else row["role"],
            content=row.get("content", ""),
            tool_calls=tuple(
                ToolCall(c["id"], c["function"]["name"], c["function"]["arguments"])
                for c in row.get("tool_calls", ())
            ),
            tool_call_id=row.get("tool_call_id"),
        )
        for row in rows
    )


def chat_request(
    data: dict[str, Any], messages: tuple[ChatMessage, ...], *, max_tokens: int | None
) -> ChatRequest:
    """The chat a validated body asks for, run with `max_tokens` (the body's
    `requested_max_tokens`, or the bound a budgeted client gets in its place)."""
    tools = tuple(
        Tool(t["function"]["name"], t["function"].get("description", ""),
             t["function"].get("parameters"))
        for t in data.get("tools", ())
    )  # fmt: skip
    return ChatRequest(
        "", messages, data.get("temperature"), max_tokens, tools=tools,
        tool_choice=data.get("tool_choice"), response_format=data.get("response_format"),
    )  # fmt: skip


def requested_max_tokens(data: dict[str, Any]) -> int | None:
    return data.get("max_completion_tokens") or data.get("max_tokens")


def route_request(capability: str, chat: ChatRequest, target: ModelTarget) -> RouteRequest:
    return RouteRequest(
        capability, messages=chat.messages, task=target.task, provider=target.provider,
        model=target.model, max_tokens=chat.max_tokens, chain=target.chain,
        needs=features_needed(chat),
    )  # fmt: skip


def features_needed(chat: ChatRequest) -> frozenset[str]:
    needs = set()
    if chat.tools or any(m.tool_calls or m.role == "tool" for m in chat.messages):
        needs.add(Feature.TOOLS)
    if chat.response_format is not None and chat.response_format.get("type") != "text":
        needs.add(Feature.RESPONSE_FORMAT)
    return frozenset(needs)


def message_json(result: ChatResult) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant", "content": result.message.content, "refusal": None,
    }  # fmt: skip
    if result.message.tool_calls:
        message["tool_calls"] = [tool_call_json(call) for call in result.message.tool_calls]
        message["content"] = result.message.content or None
    return message


def usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def completion_json(result: ChatResult, *, id: str, created: int, model: str) -> dict[str, Any]:
    return {
        "id": id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{
            "index": 0, "message": message_json(result),
            "finish_reason": result.finish_reason, "logprobs": None,
        }],
        "usage": usage_json(result.usage), "system_fingerprint": None,
    }  # fmt: skip


def chunk_json(
    choices: list[dict[str, Any]], *, id: str, created: int, model: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "system_fingerprint": None, "choices": choices, **extra,
    }  # fmt: skip


def delta_choice(delta: ChatDelta, text: str, *, first: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"role": "assistant"} if first else {}
    if text or not delta.tool_calls:
        body["content"] = text
    if delta.tool_calls:
        body["tool_calls"] = [_tool_call_piece(piece) for piece in delta.tool_calls]
    return {"index": 0, "delta": body, "finish_reason": None, "logprobs": None}


def finish_choice(finish_reason: str) -> dict[str, Any]:
    return {"index": 0, "delta": {}, "finish_reason": finish_reason, "logprobs": None}


def _tool_call_piece(piece: ToolCallDelta) -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": piece.arguments}
    if piece.name is not None:
        function["name"] = piece.name
    data: dict[str, Any] = {"index": piece.index, "function": function}
    if piece.id is not None:
        data |= {"id": piece.id, "type": "function"}
    return data
