"""`POST /v1/chat/completions`, streamed (`"stream": true`) and not.

Both run on the one call path: `execute_call` or `stream_call`, planned from
the resolved `model` name. Like the v1 stream, the streaming view waits for
the first event before it answers, so a failure before any text (throttled,
unreachable, refused) still gets its HTTP status; retries and fallbacks happen
before that point exactly as for a plain call.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse

from llmcaller.api.base import cache_policy, reserve_call
from llmcaller.api.openai_compat.inputs import ChatCompletionInput
from llmcaller.api.openai_compat.streaming import ChunkHeader, chat_chunks
from llmcaller.api.openai_compat.targets import resolve_target
from llmcaller.api.openai_compat.translate import (
    chat_messages,
    chat_request,
    completion_json,
    requested_max_tokens,
    route_request,
)
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
from providers.models import Capability
from providers.types import ChatRequest
from routing.orchestrator import execute_call
from routing.types import RouteRequest


class ChatCompletionView(OpenAIView):
    api_method = ApiMethod.CHAT

    async def post(self, request: HttpRequest) -> JsonResponse | StreamingHttpResponse:
        body, problem = read_body(request)
        streaming = isinstance(body, dict) and body.get("stream") is True
        client = await self.admit_call(request, _method(streaming))
        data = checked(ChatCompletionInput, body, problem)
        messages = chat_messages(data["messages"])
        self.call.prompt = data["messages"]
        target = await resolve_target(data["model"])
        max_tokens = await reserve_call(
            client, self.call, messages=messages, max_tokens=requested_max_tokens(data)
        )
        chat = chat_request(data, messages, max_tokens=max_tokens)
        if streaming:
            route = route_request(Capability.CHAT_STREAM, chat, target)
            return await self._stream(client, route, chat, data)
        route = route_request(Capability.CHAT, chat, target)
        routed = await execute_call(request=route, chat=chat, cache=cache_policy(client))
        self.call.routed(routed)
        self.call.output = routed.result.message.content
        body = completion_json(
            routed.result, id=_completion_id(self.call), created=int(time.time()),
            model=routed.model,
        )  # fmt: skip
        headers = route_headers(routed.provider, routed.model, routed.routing)
        return JsonResponse(body, headers=headers)

    async def _stream(
        self, client: CallerClient, route: RouteRequest, chat: ChatRequest, data: dict[str, Any]
    ) -> StreamingHttpResponse:
        opened = await open_stream(client, route, chat)
        include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
        header = ChunkHeader(
            _completion_id(self.call), int(time.time()), opened.step.model, include_usage
        )
        lines = chat_chunks(opened.first, opened.events, header=header, call=self.call)
        return stream_response(lines, opened, self.call)


def _method(streaming: bool) -> str:
    return ApiMethod.CHAT_STREAM if streaming else ApiMethod.CHAT


def _completion_id(call: CallLog) -> str:
    return f"chatcmpl-{call.trace_id}"
