"""What every OpenAI-compatible view shares: the door, admission, the headers.

`OpenAIView` is the v1 `ApiView` (one call log, one call record, the same
failure handling) with the OpenAI door's differences: errors in OpenAI's
shape, no v1 envelope (the request id is the caller's `X-Client-Request-Id`
when it sends one, the calling tool the client's own id unless
`x-llm-caller-tool` names it), an `x-request-id` on every answer (the call's
trace id, which its call record carries), and the route that served the call
in `x-llmcaller-*` headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from audit.types import CallDoor
from llmcaller.api.base import (
    ApiView,
    StrictSerializer,
    admit_caller,
    caller_identifier,
    load_body,
    validate_data,
)
from llmcaller.api.openai_compat.errors import openai_error_response
from llmcaller.api.streams import serve_stream
from llmcaller.auth import CallerClient
from llmcaller.calls import CallLog
from llmcaller.errors import ApiError
from llmcaller.stream_slots import StreamSlot, acquire_stream_slot
from providers.types import ChatRequest
from routing.orchestrator import stream_call
from routing.types import RouteRequest, RouteStep, RoutingInfo

ROUTE_HEADERS = ("provider", "model", "strategy", "config-hash", "config-version")


def route_headers(provider: str, model: str, routing: RoutingInfo) -> dict[str, str]:
    """The route that served a call, as response headers OpenAI clients can read."""
    plan = routing.plan
    version = "" if plan.config_version is None else str(plan.config_version)
    values = (provider, model, routing.strategy, plan.config_hash, version)
    return {f"x-llmcaller-{name}": value for name, value in zip(ROUTE_HEADERS, values, strict=True)}


REQUEST_ID, CALLER_TOOL = "x-client-request-id", "x-llm-caller-tool"


class OpenAIView(ApiView):
    door = CallDoor.OPENAI

    async def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = await super().dispatch(request, *args, **kwargs)
        response["x-request-id"] = self.call.trace_id
        return response

    def error_response(self, exc: BaseException) -> HttpResponseBase:
        return openai_error_response(exc)

    async def admit_call(self, request: HttpRequest, method: str) -> CallerClient:
        """Authenticate for `method`, count the call against the client's rate limit
        and read the caller's ids from their headers; the budget is reserved once the
        body is known (`reserve_call`)."""
        call = self.call
        call.method = method
        client = await admit_caller(request, method=method, call=call, budget=False)
        call.request_id, call.caller_tool = call.trace_id, client.tool_id  # unless named
        if named := caller_identifier(request.headers.get(REQUEST_ID), REQUEST_ID):
            call.request_id = named
        if named := caller_identifier(request.headers.get(CALLER_TOOL), CALLER_TOOL):
            call.caller_tool = named
        return client


def read_body(request: HttpRequest) -> tuple[Any, ApiError | None]:
    """The body's JSON, or the refusal to raise once the caller is authenticated
    (an unknown caller learns nothing about its body's faults)."""
    try:
        return load_body(request), None
    except ApiError as exc:
        return None, exc


def checked(
    serializer_class: type[StrictSerializer], data: Any, problem: ApiError | None
) -> dict[str, Any]:
    if problem is not None:
        raise problem
    return validate_data(serializer_class, data)


@dataclass(frozen=True)
class OpenedStream:
    """A routed stream whose first event has arrived, and who is serving it."""

    first: object
    events: AsyncIterator[object]
    step: RouteStep
    routing: RoutingInfo
    slot: StreamSlot


async def open_stream(client: CallerClient, route: RouteRequest, chat: ChatRequest) -> OpenedStream:
    """Take a stream slot and wait for the first event: until then, retries and
    fallbacks run as for a plain call, and a failure keeps its HTTP status."""
    slot = acquire_stream_slot(client)
    served: list[tuple[RouteStep, RoutingInfo]] = []
    events = stream_call(
        request=route, chat=chat, started=lambda step, info: served.append((step, info))
    )
    try:
        first = await anext(events)
    except BaseException:
        slot.release()
        raise
    step, routing = served[0]
    return OpenedStream(first, events, step, routing, slot)


def stream_response(
    lines: AsyncIterator[bytes], opened: OpenedStream, call: CallLog
) -> StreamingHttpResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    headers |= route_headers(opened.step.provider, opened.step.model, opened.routing)
    body = serve_stream(lines, events=opened.events, call=call, slot=opened.slot)
    return StreamingHttpResponse(body, content_type="text/event-stream", headers=headers)
