"""`POST /mcp/chat` and `POST /mcp/chatStream`: one input shape, two answers.

The stream view waits for the routed stream's first event before it answers,
so a failure before any text (throttled, unreachable, refused) still gets its
HTTP status and `Retry-After`; after that, failures arrive as the SSE error event.
A stream's call record is committed before its completion event is sent; when
the commit fails, the stream ends with the error event (TEMPORARY: retry)
instead, and every stream ends with `[DONE]` (docs/STREAMS.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from rest_framework import serializers

from llmcaller.api.base import (
    ApiView,
    EnvelopeInput,
    MaxTokensField,
    StrictCharField,
    StrictFloatField,
    StrictSerializer,
    cache_policy,
)
from llmcaller.api.outputs import (
    MessageOutput,
    OutputSerializer,
    ProviderInfoOutput,
    UsageOutput,
    provider_info_json,
    usage_json,
)
from llmcaller.api.streams import serve_stream
from llmcaller.calls import CallLog
from llmcaller.models import ApiMethod
from llmcaller.sse import encode_stream
from llmcaller.stream_slots import StreamSlot, acquire_stream_slot
from providers.models import Capability
from providers.types import ChatMessage, ChatRequest
from routing.models import Task
from routing.orchestrator import execute_call, stream_call
from routing.types import RoutedChat, RouteRequest, StreamCompleted


class MessageInput(StrictSerializer):
    role = serializers.ChoiceField(choices=["system", "user", "assistant"])
    content = StrictCharField(allow_blank=True, trim_whitespace=False)


class ChatInput(EnvelopeInput):
    """A chat request, streamed or not."""

    messages = MessageInput(many=True, allow_empty=False)
    model = StrictCharField(required=False, max_length=255)
    provider = StrictCharField(required=False, max_length=64)
    temperature = StrictFloatField(required=False, min_value=0, max_value=2)
    maxTokens = MaxTokensField()
    task = serializers.ChoiceField(required=False, choices=Task.values)

    @staticmethod
    def route(data: dict[str, Any], capability: str) -> RouteRequest:
        messages = tuple(ChatMessage(m["role"], m["content"]) for m in data["messages"])
        return RouteRequest(
            capability, messages=messages, task=data.get("task"), provider=data.get("provider"),
            model=data.get("model"), max_tokens=data.get("maxTokens"),
        )  # fmt: skip

    @staticmethod
    def request(data: dict[str, Any]) -> ChatRequest:
        messages = tuple(ChatMessage(m["role"], m["content"]) for m in data["messages"])
        return ChatRequest("", messages, data.get("temperature"), data.get("maxTokens"))


class ChatOutput(OutputSerializer):
    requestId = serializers.CharField(source="request_id")
    message = MessageOutput(source="routed.result.message")
    usage = UsageOutput(source="routed.result.usage")
    providerInfo = ProviderInfoOutput(source="routed")
    traceId = serializers.CharField(source="trace_id")


class CompletionOutput(OutputSerializer):
    """The `payload` of a stream's completion event (read from a `RoutedChat`)."""

    message = MessageOutput(source="result.message")
    usage = UsageOutput(source="result.usage")
    providerInfo = ProviderInfoOutput(source="*")


def chat_json(
    request_id: str, trace_id: str, routed: RoutedChat, routing: dict[str, Any]
) -> dict[str, Any]:
    """`ChatOutput`: the completion payload between `requestId` and `traceId`."""
    return {"requestId": request_id, **completion_json(routed, routing), "traceId": trace_id}


def completion_json(routed: RoutedChat, routing: dict[str, Any]) -> dict[str, Any]:
    """`CompletionOutput`, with the call's rendered `routing`."""
    message = routed.result.message
    return {
        "message": {"role": message.role, "content": message.content},
        "usage": usage_json(routed.result.usage),
        "providerInfo": provider_info_json(routed, routing),
    }


class ChatView(ApiView):
    api_method = ApiMethod.CHAT

    async def post(self, request: HttpRequest) -> JsonResponse:
        client, data = await self.admit(request, ChatInput)
        routed = await execute_call(
            request=ChatInput.route(data, Capability.CHAT),
            chat=ChatInput.request(data),
            cache=cache_policy(client),
        )
        self.call.routed(routed)
        self.call.output = routed.result.message.content
        body = chat_json(data["requestId"], self.call.trace_id, routed, self.call.routing)
        return JsonResponse(body)


class ChatStreamView(ApiView):
    api_method = ApiMethod.CHAT_STREAM

    async def post(self, request: HttpRequest) -> StreamingHttpResponse:
        client, data = await self.admit(request, ChatInput)
        slot = acquire_stream_slot(client)
        route, chat = ChatInput.route(data, Capability.CHAT_STREAM), ChatInput.request(data)
        events = stream_call(request=route, chat=chat)
        try:
            first = await anext(events)
        except BaseException:
            slot.release()
            raise
        body = _stream_body(first, events, self.call, slot)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingHttpResponse(body, content_type="text/event-stream", headers=headers)


def _stream_body(
    first: object, events: AsyncIterator[object], call: CallLog, slot: StreamSlot
) -> AsyncIterator[bytes]:
    def completion(event: StreamCompleted) -> dict[str, Any]:
        # The call log, told of the completion first, has rendered its routing.
        return completion_json(event.routed, call.routing)

    lines = encode_stream(
        first, events, trace_id=call.trace_id, completion=completion, observer=call,
        before_completion=call.end_stream,  # no completion event before its record
    )  # fmt: skip
    return serve_stream(lines, events=events, call=call, slot=slot)
