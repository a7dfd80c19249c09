"""Tool use mapped between OpenAI's words and Anthropic's Messages API.

    OpenAI (providers.types)           Anthropic
    Tool(name, description, params)    {"name", "description", "input_schema"}
    tool_choice auto/required/none     {"type": "auto"/"any"/"none"}
    tool_choice function NAME          {"type": "tool", "name": NAME}
    assistant message's tool_calls     "tool_use" content blocks (input as an object)
    "tool" messages                    "tool_result" blocks in the next user message
    finish_reason stop/length/tool_calls  stop_reason end_turn/max_tokens/tool_use

Arguments are JSON text on our side and an object on Anthropic's: `json`
converts them both ways.
"""

from __future__ import annotations

import json
from typing import Any

from providers.types import ChatMessage, ChatRequest, ToolCall, ToolChoice

_CHOICES = {"auto": "auto", "required": "any", "none": "none"}
_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                 "tool_use": "tool_calls"}  # fmt: skip
_EMPTY_SCHEMA = {"type": "object", "properties": {}}


def anthropic_messages(messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    """The non-system messages; consecutive tool results share one user message."""
    rows: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            block = {"type": "tool_result", "tool_use_id": message.tool_call_id,
                     "content": message.content}  # fmt: skip
            if rows and rows[-1]["role"] == "user" and _is_tool_results(rows[-1]["content"]):
                rows[-1]["content"].append(block)
            else:
                rows.append({"role": "user", "content": [block]})
        elif message.tool_calls:
            rows.append({"role": "assistant", "content": _assistant_blocks(message)})
        else:
            rows.append({"role": message.role, "content": message.content})
    return rows


def tool_fields(request: ChatRequest) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if request.tools:
        fields["tools"] = [
            {"name": tool.name, "description": tool.description,
             "input_schema": dict(tool.parameters or _EMPTY_SCHEMA)}
            for tool in request.tools
        ]  # fmt: skip
    if request.tool_choice is not None:
        fields["tool_choice"] = tool_choice_json(request.tool_choice)
    return fields


def tool_choice_json(choice: ToolChoice) -> dict[str, Any]:
    if choice.mode == "function":
        return {"type": "tool", "name": choice.name}
    return {"type": _CHOICES[choice.mode]}


def tool_calls_of(content: list[dict[str, Any]]) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(str(block["id"]), str(block["name"]), json.dumps(block.get("input") or {}))
        for block in content
        if block.get("type") == "tool_use"
    )


def finish_reason(stop_reason: Any) -> str:
    return _STOP_REASONS.get(stop_reason, "stop")


def _assistant_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name,
                       "input": json.loads(call.arguments or "{}")})  # fmt: skip
    return blocks


def _is_tool_results(content: Any) -> bool:
    return isinstance(content, list) and all(b.get("type") == "tool_result" for b in content)
