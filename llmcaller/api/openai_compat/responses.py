"""`POST /v1/responses`: the plain-text subset of OpenAI's Responses API.

The request becomes a chat (`instructions` first, then the input messages) on
the one call path; the answer is a `response` object, or its named stream
events (`responses_shapes` lists the subset and the events).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from rest_framework import serializers

from llmcaller.api.base import (
    MaxTokensField,
    StrictCharField,
    StrictFloatField,
    cache_policy,
    reserve_call,
)
from llmcaller.api.openai_compat.errors import openai_error
from llmcaller.api.openai_compat.inputs import HarmlessFields, StrictBooleanField
from llmcaller.api.openai_compat.responses_shapes import (
    ROLES,
    ResponseShape,
    input_messages,
    output_text,
)
from llmcaller.api.openai_compat.targets import resolve_target
from llmcaller.api.openai_compat.translate import route_request
from llmcaller.api.openai_compat.view import (
    OpenAIView,
    checked,
    open_stream,
    read_body,
    route_headers,
    stream_response,
)
from llmcaller.auth import CallerClient
from llmcaller.calls import CallLog
from llmcaller.models import ApiMethod
from llmcaller.sse import strip_control
from providers.models import Capability
from providers.types import ChatDelta, ChatRequest
from routing.orchestrator import execute_call
from routing.types import RouteRequest, StreamCompleted

_PARTS = {"input_text", "output_text", "text"}


class ResponsesInput(HarmlessFields):
    model = StrictCharField(max_length=255)
    input = serializers.JSONField()
    instructions = StrictCharField(
        required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )
    stream = StrictBooleanField(required=False, default=False)
    temperature = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=2)
    max_output_tokens = MaxTokensField(allow_null=True)

    def validate_input(self, value: Any) -> Any:
        if isinstance(value, str) and value:
            return value
        if not isinstance(value, list) or not value or not all(map(_is_message, value)):
            raise serializers.ValidationError(
                "Give text, or a non-empty list of messages with text content."
            )
        return value


def _is_message(item: Any) -> bool:
    if not isinstance(item, dict) or item.get("type", "message") != "message":
        return False
    content = item.get("content")
    if isinstance(content, list):
        parts_ok = all(
            isinstance(p, dict) and p.get("type") in _PARTS and isinstance(p.get("text"), str)
            for p in content
        )
        return item.get("role") in ROLES and parts_ok
    return item.get("role") in ROLES and isinstance(content, str)


class ResponsesView(OpenAIView):
    api_method = ApiMethod.CHAT

    async def post(self, request: HttpRequest) -> JsonResponse | StreamingHttpResponse:
        body, problem = read_body(request)
        streaming = isinstance(body, dict) and body.get("stream") is True
        client = await self.admit_call(
            request, ApiMethod.CHAT_STREAM if streaming else ApiMethod.CHAT
        )
        data = checked(ResponsesInput, body, problem)
        messages = input_messages(data["input"], data.get("instructions"))
        self.call.prompt = [{"role": m.role, "content": m.content} for m in messages]
        target = await resolve_target(data["model"])
        max_tokens = await reserve_call(
            client, self.call, messages=messages, max_tokens=data.get("max_output_tokens")
        )
        chat = ChatRequest("", messages, data.get("temperature"), max_tokens)
        capability = Capability.CHAT_STREAM if streaming else Capability.CHAT
        route = route_request(capability, chat, target)
        if streaming:
            return await self._stream(client, route, chat, data)
        routed = await execute_call(request=route, chat=chat, cache=cache_policy(client))
        self.call.routed(routed)
        self.call.output = routed.result.message.content
        shape = _shape(self.call, data, routed.model)
        body = shape.response(
            "completed", text=routed.result.message.content, usage=routed.result.usage
        )
        return JsonResponse(
            body, headers=route_headers(routed.provider, routed.model, routed.routing)
        )

    async def _stream(
        self, client: CallerClient, route: RouteRequest, chat: ChatRequest, data: dict[str, Any]
    ) -> StreamingHttpResponse:
        opened = await open_stream(client, route, chat)
        shape = _shape(self.call, data, opened.step.model)
        lines = response_events(opened.first, opened.events, shape, self.call)
        return stream_response(lines, opened, self.call)


def _shape(call: CallLog, data: dict[str, Any], model: str) -> ResponseShape:
    return ResponseShape(
        id=f"resp_{call.trace_id}", created_at=int(time.time()), model=model,
        instructions=data.get("instructions"), temperature=data.get("temperature"),
        max_output_tokens=data.get("max_output_tokens"),
    )  # fmt: skip


async def response_events(
    first: object, events: AsyncIterator[object], shape: ResponseShape, call: CallLog
) -> AsyncIterator[bytes]:
    yield shape.event("response.created", response=shape.response("in_progress"))
    yield shape.event("response.in_progress", response=shape.response("in_progress"))
    yield shape.event(
        "response.output_item.added", output_index=0, item=shape.item(None, "in_progress")
    )
    yield shape.event("response.content_part.added", **shape.place(), part=output_text(""))
    parts: list[str] = []
    event: object | None = first
    try:
        while event is not None:
            if isinstance(event, ChatDelta) and event.content:
                text = strip_control(event.content)
                call.delta(text)
                parts.append(text)
                yield shape.event(
                    "response.output_text.delta", **shape.place(), delta=text, logprobs=[]
                )
            elif isinstance(event, StreamCompleted):
                call.completed(event)
                await call.end_stream()  # nothing says "done" before the call's record
                for line in _completed(shape, "".join(parts), event):
                    yield line
            event = await anext(events, None)
    except Exception as exc:  # the failure is told as events; cancellation is not one
        call.failed(exc)
        error = openai_error(exc)
        yield shape.event(
            "error", code=error["code"], message=error["message"], param=error["param"]
        )
        failure = {"code": error["code"], "message": error["message"]}
        await call.end_stream_quietly()  # the terminal event follows, recorded or not
        yield shape.event("response.failed", response=shape.response("failed", error=failure))


def _completed(shape: ResponseShape, text: str, event: StreamCompleted) -> list[bytes]:
    usage = event.routed.result.usage
    return [
        shape.event("response.output_text.done", **shape.place(), text=text, logprobs=[]),
        shape.event("response.content_part.done", **shape.place(), part=output_text(text)),
        shape.event(
            "response.output_item.done", output_index=0, item=shape.item(text, "completed")
        ),
        shape.event(
            "response.completed", response=shape.response("completed", text=text, usage=usage)
        ),
    ]
