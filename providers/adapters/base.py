"""The one interface every upstream kind speaks, and the request flow they share.

A subclass names its paths and overrides hooks (`auth_headers`,
`build_chat_payload`, `parse_chat_response`, `parse_stream_chunk`, …); the flow
itself (send, map failures to `providers.errors`, parse defensively) lives here
once. Nothing an upstream sends back is passed on verbatim.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from providers.adapters.naming import capabilities_for, kind_from_name
from providers.adapters.openai_wire import (
    finish_reason,
    message_json,
    parse_tool_call_deltas,
    parse_tool_calls,
    tool_fields,
)
from providers.errors import (
    UnsupportedCapability,
    UpstreamAuthRejected,
    UpstreamPermanent,
    UpstreamRateLimited,
    UpstreamTemporary,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from providers.http import (
    TransportBadURL,
    TransportError,
    TransportTimeout,
    TransportUnreachable,
    UpstreamAnswer,
    UpstreamClient,
    UpstreamStream,
)
from providers.tracing import with_trace_context
from providers.types import (
    ChatDelta,
    ChatDone,
    ChatMessage,
    ChatRequest,
    ChatResult,
    DiscoveredModel,
    EmbedRequest,
    EmbedResult,
    ProviderConfig,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from providers.usage_estimate import estimated_usage

T = TypeVar("T")
StreamEvent = ChatDelta | ChatDone


class StreamState:
    """What a stream has said so far; becomes the `ChatResult` at its end."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.usage = Usage()
        self.finished = False
        self.finish_reason = "stop"
        self.calls: dict[int, list[str]] = {}  # index -> [id, name, arguments so far]
        self._call_keys: dict[Any, int] = {}

    def call_index(self, key: Any) -> int:
        """The tool call index for an upstream's own key for it (Anthropic's block
        index), numbered from 0 in order of arrival as OpenAI numbers them."""
        return self._call_keys.setdefault(key, len(self._call_keys))

    def add_tool_calls(self, pieces: tuple[ToolCallDelta, ...]) -> None:
        for piece in pieces:
            call = self.calls.setdefault(piece.index, ["", "", ""])
            call[0] = piece.id or call[0]
            call[1] = piece.name or call[1]
            call[2] += piece.arguments

    def result(self, request: ChatRequest | None = None) -> ChatResult:
        """The answer; with `request`, a stream that reported no usage gets an
        estimate (`providers.usage_estimate`) instead of 0 tokens."""
        calls = tuple(ToolCall(*self.calls[index]) for index in sorted(self.calls))
        content = "".join(self.parts)
        usage = self.usage
        if request is not None and usage == Usage():  # some servers never send usage
            arguments = "".join(call.arguments for call in calls)
            usage = estimated_usage(request.messages, content + arguments)
        message = ChatMessage(role="assistant", content=content, tool_calls=calls)
        return ChatResult(self.model, message, usage, self.finish_reason)


class ProviderAdapter:
    # Whether discovery learns which models are loaded (local runtimes). Routing
    # only holds an unloaded model back for kinds that report it.
    reports_load_state = False
    # Whether the kind takes OpenAI's `response_format` (routing skips it otherwise).
    serves_response_format = True
    chat_path = "/v1/chat/completions"
    embed_path = "/v1/embeddings"
    models_path = "/v1/models"

    def __init__(self, config: ProviderConfig, client: UpstreamClient) -> None:
        self.config = config
        self.client = client

    # --- the interface --------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResult:
        data = await self.request_json("POST", self.chat_path, self.build_chat_payload(request))
        return self.parse(self.parse_chat_response, data, request)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        payload = self.build_chat_payload(request, stream=True)
        state = StreamState(request.model)
        async with (
            self.open_stream("POST", self.chat_path, payload) as response,
            aclosing(self._sse_data(response)) as lines,
        ):
            async for data in lines:
                for event in self.parse(self.parse_stream_chunk, data, state):
                    yield event
                if state.finished:
                    break
        if not state.finished:
            raise UpstreamTemporary(f"{self.config.key} ended the stream before it was complete")
        yield ChatDone(state.result(request))

    async def embed(self, request: EmbedRequest) -> EmbedResult:
        data = await self.request_json("POST", self.embed_path, self.build_embed_payload(request))
        return self.parse(self.parse_embed_response, data, request)

    async def list_models(self) -> list[DiscoveredModel]:
        data = await self.request_json("GET", self.models_path)
        return self.parse(self.parse_models_response, data)

    async def probe(self) -> list[DiscoveredModel]:
        """Whether the provider answers, and with which models."""
        return await self.list_models()

    # --- hooks (OpenAI-compatible by default) -----------------------------------

    def auth_headers(self) -> dict[str, str]:
        if not self.config.credential:
            return {}
        return {"Authorization": f"Bearer {self.config.credential}"}

    def build_chat_payload(self, request: ChatRequest, *, stream: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": request.model,
            "messages": [message_json(m) for m in request.messages],
            "stream": stream,
            **tool_fields(request),
        }
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.max_tokens is not None:
            payload["max_tokens"] = request.max_tokens
        if stream:
            payload["stream_options"] = {"include_usage": True}
        return payload

    def parse_chat_response(self, data: dict[str, Any], request: ChatRequest) -> ChatResult:
        choice = data["choices"][0]
        message = choice["message"]
        calls = parse_tool_calls(message)
        return ChatResult(
            model=data.get("model") or request.model,
            message=ChatMessage("assistant", _text(message.get("content")), tool_calls=calls),
            usage=_openai_usage(data.get("usage")),
            finish_reason=finish_reason(choice.get("finish_reason")),
        )

    def parse_stream_chunk(self, data: str, state: StreamState) -> Iterable[StreamEvent]:
        if data.strip() == "[DONE]":
            state.finished = True
            return []
        chunk = json.loads(data)
        if "error" in chunk:
            raise UpstreamTemporary(f"{self.config.key} reported an error mid-stream")
        if chunk.get("usage"):
            state.usage = _openai_usage(chunk["usage"])
        events = []
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            text = content if isinstance(content, str) else ""
            calls = parse_tool_call_deltas(delta)
            state.finish_reason = finish_reason(choice.get("finish_reason"), state.finish_reason)
            if text or calls:
                state.parts.append(text)
                state.add_tool_calls(calls)
                events.append(ChatDelta(text, calls))
        return events

    def build_embed_payload(self, request: EmbedRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {"model": request.model, "input": list(request.inputs)}
        if request.dimensions is not None:
            payload["dimensions"] = request.dimensions
        return payload

    def parse_embed_response(self, data: dict[str, Any], request: EmbedRequest) -> EmbedResult:
        rows = sorted(data["data"], key=lambda row: row.get("index", 0))
        vectors = tuple(tuple(float(x) for x in row["embedding"]) for row in rows)
        usage = data.get("usage") or {}
        return EmbedResult(
            model=data.get("model") or request.model,
            vectors=vectors,
            usage=Usage(input_tokens=int(usage.get("prompt_tokens") or 0)),
        )

    def parse_models_response(self, data: dict[str, Any]) -> list[DiscoveredModel]:
        # A plain listing gives ids only: embedding models are known by their names.
        models = []
        for row in data["data"]:
            kind = kind_from_name(str(row["id"]))
            models.append(DiscoveredModel(str(row["id"]), kind, capabilities_for(kind)))
        return models

    def unsupported(self, capability: str) -> UnsupportedCapability:
        return UnsupportedCapability(f"{self.config.kind} providers do not support {capability}")

    # --- the shared flow ---------------------------------------------------------

    async def request_json(self, method: str, path: str, payload: Any = None) -> Any:
        response = await self._send(self.client.request, method, path, payload)
        self._raise_for_status(response)
        try:
            return response.json()
        except ValueError:
            raise self._malformed() from None

    @asynccontextmanager
    async def open_stream(
        self, method: str, path: str, payload: Any = None
    ) -> AsyncIterator[UpstreamStream]:
        response = await self._send(self.client.open_stream, method, path, payload)
        try:
            self._raise_for_status(response)
            yield response
        finally:
            response.close()

    async def _send(self, send: Callable[..., Awaitable[T]], method: str, path: str,
                    payload: Any) -> T:  # fmt: skip
        """`send` (the client's `request` or `open_stream`), failures in our words."""
        try:
            return await send(
                method,
                self.config.url(path),
                payload=payload,
                headers=with_trace_context(self.auth_headers()),
                timeout=self.config.timeout,
            )
        except TransportError as exc:
            raise self._transport_error(exc) from None

    def parse(self, parser: Callable[..., T], data: Any, *args: Any) -> T:
        """Run a parse hook; a body of the wrong shape is the upstream's fault."""
        try:
            return parser(data, *args)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise self._malformed() from None

    async def _sse_data(self, response: UpstreamStream) -> AsyncIterator[str]:
        try:
            async for line in response.lines():
                if line.startswith("data:"):
                    yield line[5:].strip()
        except TransportError as exc:
            raise self._transport_error(exc, mid_stream=True) from None

    def _raise_for_status(self, response: UpstreamAnswer | UpstreamStream) -> None:
        status = response.status
        key = self.config.key
        if status < 400:
            return
        if status == 429:
            raise UpstreamRateLimited(
                f"{key} is throttling requests (HTTP 429)",
                status=429,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status in (401, 403):
            raise UpstreamAuthRejected(
                f"{key} rejected the credential (HTTP {status})", status=status
            )
        if status >= 500 or status == 408:
            raise UpstreamTemporary(
                f"{key} answered HTTP {status}",
                status=status,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        raise UpstreamPermanent(f"{key} refused the request (HTTP {status})", status=status)

    def _transport_error(self, exc: TransportError, *, mid_stream: bool = False) -> Exception:
        key = self.config.key
        if isinstance(exc, TransportTimeout):
            return UpstreamTimeout(f"{key} did not answer within {self.config.timeout:g} s")
        if isinstance(exc, TransportUnreachable):
            return UpstreamUnreachable(f"{key} could not be reached at its base URL")
        if isinstance(exc, TransportBadURL):
            return UpstreamPermanent(f"{key} has a base URL that cannot be used")
        if mid_stream:
            return UpstreamTemporary(f"{key} broke off the stream")
        return UpstreamTemporary(f"{key} closed the connection without a complete answer")

    def _malformed(self) -> UpstreamTemporary:
        return UpstreamTemporary(f"{self.config.key} returned a malformed response")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _openai_usage(usage: dict[str, Any] | None) -> Usage:
    usage = usage or {}
    return Usage(
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
    )


def _text(content: Any) -> str:
    """Message content as text; list-of-parts content keeps only its text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if content is None:
        return ""
    raise TypeError("message content is neither text nor parts")
