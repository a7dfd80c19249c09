"""The Anthropic Messages API.

It differs from the OpenAI shape the base flow speaks in five ways, each a hook
here: the key travels in `x-api-key` beside a pinned `anthropic-version`; system
prompts are a top-level `system` field, not messages; `max_tokens` is required;
a stream is a sequence of typed events (message_start … message_stop) rather
than chunks and `[DONE]`; and tool use has its own blocks
(`providers.adapters.anthropic_tools` maps them). Anthropic has no embeddings
endpoint and no `response_format`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from providers.adapters.anthropic_tools import (
    anthropic_messages,
    finish_reason,
    tool_calls_of,
    tool_fields,
)
from providers.adapters.base import ProviderAdapter, StreamEvent, StreamState
from providers.errors import UpstreamError, UpstreamRateLimited, UpstreamTemporary
from providers.types import (
    ChatDelta,
    ChatMessage,
    ChatRequest,
    ChatResult,
    DiscoveredModel,
    EmbedRequest,
    EmbedResult,
    ToolCallDelta,
    Usage,
)

# The version whose request and event shapes this module was written against;
# pinned so an upstream change of defaults cannot change what we parse.
ANTHROPIC_VERSION = "2023-06-01"
# Anthropic rejects a request without max_tokens; callers may leave it out.
DEFAULT_MAX_TOKENS = 1024

# Our own words for the error types a stream may end with: upstream's `message`
# is never passed on, and an unknown type gets the generic sentence.
_STREAM_ERRORS: dict[str, tuple[type[UpstreamError], str]] = {
    "overloaded_error": (UpstreamTemporary, "is overloaded"),
    "api_error": (UpstreamTemporary, "had an internal error"),
    "rate_limit_error": (UpstreamRateLimited, "is throttling requests"),
}


class AnthropicAdapter(ProviderAdapter):
    serves_response_format = False  # the Messages API has no `response_format`
    chat_path = "/v1/messages"
    # One page of up to 1000 (the documented maximum) instead of following
    # `has_more` cursors: an account lists a few dozen models at most.
    models_path = "/v1/models?limit=1000"

    def auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if self.config.credential:
            headers["x-api-key"] = self.config.credential
        return headers

    def build_chat_payload(self, request: ChatRequest, *, stream: bool = False) -> dict[str, Any]:
        system = [m.content for m in request.messages if m.role == "system"]
        payload: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": anthropic_messages(request.messages),
            **tool_fields(request),
        }
        if system:
            payload["system"] = "\n\n".join(system)
        if request.temperature is not None:
            # The v1 contract allows 0-2; Anthropic refuses anything above 1.
            payload["temperature"] = min(request.temperature, 1.0)
        if stream:
            payload["stream"] = True
        return payload

    def parse_chat_response(self, data: dict[str, Any], request: ChatRequest) -> ChatResult:
        content = data["content"]
        calls = tool_calls_of(content)
        return ChatResult(
            model=data.get("model") or request.model,
            message=ChatMessage("assistant", _text_blocks(content), tool_calls=calls),
            usage=_usage(data.get("usage")),
            finish_reason=finish_reason(data.get("stop_reason")),
        )

    def parse_stream_chunk(self, data: str, state: StreamState) -> Iterable[StreamEvent]:
        event = json.loads(data)
        handler = self._stream_handlers().get(event["type"])
        # ping, content_block_stop and event types added later carry no text.
        return handler(event, state) if handler else []

    async def embed(self, request: EmbedRequest) -> EmbedResult:
        raise self.unsupported("embed")

    def parse_models_response(self, data: dict[str, Any]) -> list[DiscoveredModel]:
        models = []
        for row in data["data"]:
            vision = _supported(row.get("capabilities"), "image_input")
            models.append(
                DiscoveredModel(
                    model_id=str(row["id"]),
                    kind="vlm" if vision else "llm",
                    description=str(row.get("display_name") or ""),
                    publisher="Anthropic",
                    vision=vision,
                    tool_use=True,  # every model the Messages API serves takes tools
                )
            )
        return models

    # --- stream events ------------------------------------------------------------

    def _stream_handlers(self) -> dict[str, Callable[[dict[str, Any], StreamState], list]]:
        return {
            "message_start": self._on_message_start,
            "content_block_start": self._on_block_start,
            "content_block_delta": self._on_block_delta,
            "message_delta": self._on_message_delta,
            "message_stop": self._on_message_stop,
            "error": self._on_error,
        }

    def _on_message_start(self, event: dict[str, Any], state: StreamState) -> list[StreamEvent]:
        message = event["message"]
        state.model = message.get("model") or state.model
        state.usage = Usage(input_tokens=_usage(message.get("usage")).input_tokens)
        return []

    def _on_block_start(self, event: dict[str, Any], state: StreamState) -> list[StreamEvent]:
        block = event["content_block"]
        if block.get("type") == "tool_use":
            index = state.call_index(event["index"])
            piece = ToolCallDelta(index, id=str(block["id"]), name=str(block["name"]))
            return _tool_delta(state, piece)
        return _delta(state, block.get("text")) if block.get("type") == "text" else []

    def _on_block_delta(self, event: dict[str, Any], state: StreamState) -> list[StreamEvent]:
        delta = event["delta"]
        if delta.get("type") == "input_json_delta":
            piece = ToolCallDelta(state.call_index(event["index"]), arguments=delta["partial_json"])
            return _tool_delta(state, piece)
        # thinking_delta and the like are not answer text.
        return _delta(state, delta.get("text")) if delta.get("type") == "text_delta" else []

    def _on_message_delta(self, event: dict[str, Any], state: StreamState) -> list[StreamEvent]:
        stop_reason = (event.get("delta") or {}).get("stop_reason")
        if stop_reason is not None:
            state.finish_reason = finish_reason(stop_reason)
        # The output count here is cumulative for the whole message so far.
        output = _usage(event.get("usage")).output_tokens
        state.usage = Usage(input_tokens=state.usage.input_tokens, output_tokens=output)
        return []

    def _on_message_stop(self, event: dict[str, Any], state: StreamState) -> list[StreamEvent]:
        state.finished = True
        return []

    def _on_error(self, event: dict[str, Any], state: StreamState) -> list[StreamEvent]:
        kind = (event.get("error") or {}).get("type")
        error_class, words = _STREAM_ERRORS.get(kind, (UpstreamTemporary, "reported an error"))
        raise error_class(f"{self.config.key} {words} mid-stream")


def _delta(state: StreamState, text: Any) -> list[StreamEvent]:
    if not isinstance(text, str) or not text:
        return []
    state.parts.append(text)
    return [ChatDelta(text)]


def _tool_delta(state: StreamState, piece: ToolCallDelta) -> list[StreamEvent]:
    state.add_tool_calls((piece,))
    return [ChatDelta("", (piece,))]


def _text_blocks(content: list[dict[str, Any]]) -> str:
    """The answer's text: tool_use and thinking blocks are not part of it."""
    return "".join(block["text"] for block in content if block.get("type") == "text")


def _usage(usage: dict[str, Any] | None) -> Usage:
    usage = usage or {}
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
    )


def _supported(capabilities: Any, name: str) -> bool:
    entry = capabilities.get(name) if isinstance(capabilities, dict) else None
    return bool(isinstance(entry, dict) and entry.get("supported"))
