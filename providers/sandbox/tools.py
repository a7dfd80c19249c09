"""Deterministic tool calls: the sandbox calls a tool when it is offered one.

When a request carries `tools` (and `tool_choice` is not "none") and its last
message is the user's, the answer is one call of the chosen tool (the named
one, else the first) whose arguments fill every string parameter of its
schema with the last user text. When the last message is a tool result, the
answer is text again: "Sandbox reply to tool result: <its content>". A
streamed call sends the call's id and name first, then its arguments in two
pieces, as OpenAI does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from providers.sandbox.errors import bad_request


@dataclass(frozen=True)
class SandboxToolCall:
    id: str
    name: str
    arguments: str

    def as_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    def stream_deltas(self) -> list[dict[str, Any]]:
        half = len(self.arguments) // 2
        head = {"index": 0, "id": self.id, "type": "function"}
        return [
            {"role": "assistant", "content": None,
             "tool_calls": [{**head, "function": {"name": self.name, "arguments": ""}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": self.arguments[:half]}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": self.arguments[half:]}}]},
        ]  # fmt: skip


def choose_tool_call(data: dict[str, Any], last_user_text: str) -> SandboxToolCall | None:
    """The call this request gets, or None when it gets a text answer."""
    tools = _tools(data.get("tools"))
    choice = data.get("tool_choice", "auto")
    messages = data.get("messages") or []
    if not tools or choice == "none" or messages[-1].get("role") == "tool":
        return None
    name = _chosen_name(choice) or next(iter(tools))
    if name not in tools:
        raise bad_request(
            f'tool_choice names "{name}", which is not among the tools.', "tool_choice"
        )
    properties = (tools[name].get("parameters") or {}).get("properties") or {}
    arguments = {
        key: last_user_text for key, spec in properties.items() if spec.get("type") == "string"
    }
    text = json.dumps(arguments, separators=(",", ":"))
    digest = hashlib.blake2b(f"{name}:{text}".encode(), digest_size=6).hexdigest()
    return SandboxToolCall(id=f"call_{digest}", name=name, arguments=text)


def tool_result_text(data: dict[str, Any]) -> str | None:
    """The content of a trailing tool message, which the answer then replies to."""
    messages = data.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") != "tool":
        return None
    content = last.get("content")
    return content if isinstance(content, str) else json.dumps(content)


def _tools(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise bad_request("tools must be an array.", "tools")
    tools = {}
    for tool in value:
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            raise bad_request("Each tool must be a function.", "tools")
        if not isinstance(function.get("name"), str):
            raise bad_request("Each function needs a name.", "tools")
        tools[function["name"]] = function
    return tools


def _chosen_name(choice: Any) -> str | None:
    if isinstance(choice, dict):
        return (choice.get("function") or {}).get("name")
    if choice in ("auto", "required", None):
        return None
    raise bad_request(
        'tool_choice must be "auto", "none", "required" or a function.', "tool_choice"
    )
