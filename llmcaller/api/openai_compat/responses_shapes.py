"""The Responses API subset the gateway serves, as plain functions.

Served: `input` as a string or a list of messages (`{"role", "content"}`, with
`"type": "message"` or without; content as text or `input_text` /
`output_text` parts), `instructions` (a system message before the input),
`temperature`, `max_output_tokens`, `stream`. The answer is one assistant
message with one `output_text` part. Not served: tools, built-in tools,
`previous_response_id` and stored conversations, files and images, reasoning
options, background mode.

A stream sends OpenAI's named events in OpenAI's order: `response.created`,
`response.in_progress`, `response.output_item.added`,
`response.content_part.added`, `response.output_text.delta` (one per piece),
`response.output_text.done`, `response.content_part.done`,
`response.output_item.done`, `response.completed`; a failure after the start
sends `error`, then `response.failed`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from providers.types import ChatMessage, Usage

ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}


def input_messages(value: Any, instructions: str | None) -> tuple[ChatMessage, ...]:
    """The chat messages for `input` (already checked by `ResponsesInput`)."""
    head = (ChatMessage("system", instructions),) if instructions else ()
    if isinstance(value, str):
        return (*head, ChatMessage("user", value))
    return (*head, *(ChatMessage(ROLES[item["role"]], item_text(item)) for item in value))


def item_text(item: dict[str, Any]) -> str:
    content = item["content"]
    if isinstance(content, str):
        return content
    return "".join(part["text"] for part in content)


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


@dataclass
class ResponseShape:
    """One response as it is built up: the `response` object at each stage."""

    id: str
    created_at: int
    model: str
    instructions: str | None
    temperature: float | None
    max_output_tokens: int | None
    sequence: int = field(default=0)

    @property
    def item_id(self) -> str:
        return "msg_" + self.id.removeprefix("resp_")

    def item(self, text: str | None, status: str) -> dict[str, Any]:
        content = [] if text is None else [output_text(text)]
        return {
            "id": self.item_id, "type": "message", "status": status, "role": "assistant",
            "content": content,
        }  # fmt: skip

    def response(self, status: str, *, text: str | None = None, usage: Usage | None = None,
                 error: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        return {
            "id": self.id, "object": "response", "created_at": self.created_at,
            "status": status, "error": error, "incomplete_details": None,
            "instructions": self.instructions, "max_output_tokens": self.max_output_tokens,
            "model": self.model,
            "output": [] if text is None else [self.item(text, "completed")],
            "parallel_tool_calls": True, "temperature": self.temperature,
            "tool_choice": "auto", "tools": [], "top_p": None,
            "text": {"format": {"type": "text"}}, "truncation": "disabled",
            "usage": None if usage is None else usage_json(usage), "metadata": {},
        }  # fmt: skip

    def event(self, kind: str, **fields: Any) -> bytes:
        """One named SSE event, numbered in order."""
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return f"event: {kind}\ndata: {data}\n\n".encode()

    def place(self) -> dict[str, Any]:
        """Where the one text part sits, as delta and done events say it."""
        return {"item_id": self.item_id, "output_index": 0, "content_index": 0}


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
