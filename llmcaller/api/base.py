"""What every v1 endpoint shares: strict input serializers and the async view base.

`StrictSerializer` rejects fields it does not declare (nested ones too) and the
`Strict*Field`s refuse values of the wrong JSON type instead of coercing them
("10" is not an integer here). `ApiView` is a plain Django async view, exempt
from CSRF, that turns every failure into the v1 error body and writes the call
log line; the hot path never enters DRF's synchronous `APIView`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import classonlymethod
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.fields import empty

from audit.services import AuditWriteFailed
from audit.types import CallDoor
from llmcaller.api.fields import SharedFields
from llmcaller.auth import CallerClient, authenticate
from llmcaller.calls import MAX_ID_LENGTH, CallLog
from llmcaller.errors import BadRequest, error_response
from llmcaller.limits import (
    chat_max_tokens,
    check_budget,
    check_rate,
    reserve_budget,
    worst_case_tokens,
)
from providers.tracing import leave_span
from providers.types import ChatMessage
from routing.types import CachePolicy

# The status recorded for a call whose client left before its answer (nginx's 499).
CLIENT_CLOSED_REQUEST = 499
_UNPARSED = object()


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class MaxTokensField(StrictIntegerField):
    """An answer's token bound, the same on every door: 1 to LLMCALLER_MAX_TOKENS_LIMIT
    (`maxTokens` on v1 and MCP, `max_tokens` and its kin on /v1)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=1, max_value=settings.LLMCALLER_MAX_TOKENS_LIMIT, **kwargs)


class StrictSerializer(SharedFields, serializers.Serializer):
    @property
    def _writable_fields(self) -> Iterable[serializers.Field]:
        # An optional field without a default that the body leaves out would
        # only raise DRF's SkipField: the OpenAI body declares 16 and a call sends
        # a few. Only the top level, whose instance is the request's own, holds
        # `initial_data`; nested serializers are shared between requests.
        fields = super()._writable_fields
        body = getattr(self, "initial_data", None)
        if not isinstance(body, Mapping):
            return fields
        return (
            field for field in fields
            if field.field_name in body or field.required or field.default is not empty
        )  # fmt: skip

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class EnvelopeInput(StrictSerializer):
    """The fields every v1 request body carries."""

    requestId = StrictCharField(max_length=MAX_ID_LENGTH)
    callerTool = StrictCharField(max_length=MAX_ID_LENGTH)
    timestamp = serializers.DateTimeField(required=False)


def json_body(request: HttpRequest) -> Any:
    """The request's JSON body, parsed once however often it is asked for."""
    parsed = getattr(request, "_llmcaller_json", _UNPARSED)
    if parsed is _UNPARSED:
        try:
            parsed = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The request body is not valid JSON.") from None
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            raise BadRequest(f"The request body is larger than {limit} bytes.") from None
        request._llmcaller_json = parsed
    return parsed


def validate(serializer_class: type[StrictSerializer], request: HttpRequest) -> dict[str, Any]:
    return validate_data(serializer_class, json_body(request))


def load_body(request: HttpRequest) -> Any:
    """The request body's JSON (None when empty), or BadRequest."""
    return json_body(request)


def validate_data(serializer_class: type[StrictSerializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        path, message = _first_error(serializer.errors)
        raise BadRequest(f"{path}: {message}" if path else message, param=path or None)
    return serializer.validated_data


def _first_error(errors: Any, path: str = "") -> tuple[str, str]:
    """(`messages[0].role`, `"x" is not a valid choice.`) from DRF's nested errors."""
    if isinstance(errors, dict):
        name, value = next(iter(errors.items()))
        if name == "non_field_errors":
            return _first_error(value, path)
        if isinstance(name, int):
            return _first_error(value, f"{path}[{name}]")
        return _first_error(value, f"{path}.{name}" if path else name)
    if isinstance(errors, list) and errors and not isinstance(errors[0], str):
        index, value = next((i, e) for i, e in enumerate(errors) if e)
        return _first_error(value, f"{path}[{index}]")
    message = str(errors[0] if isinstance(errors, list) else errors)
    if not path and "Invalid data" in message:
        message = "The request body must be a JSON object."
    return path, message


def cache_policy(client: CallerClient) -> CachePolicy | None:
    """The client's opt-in to the response cache, if it has one."""
    if client.response_cache_seconds <= 0:
        return None
    return CachePolicy(client.tool_id, client.response_cache_seconds)


async def admit_caller(
    request: HttpRequest, *, method: str, call: CallLog, budget: bool = True
) -> CallerClient:
    """The client, if it may make this call now: its token, allow-list, rate and (unless
    the caller reserves against it itself, `budget=False`) its budget."""
    client = await authenticate(request, method=method)
    call.admitted(client)
    check_rate(client)
    if budget and client.has_budget:
        await check_budget(client)
    return client


async def reserve_call(
    client: CallerClient,
    call: CallLog,
    *,
    messages: Sequence[ChatMessage] = (),
    inputs: Iterable[str] = (),
    max_tokens: int | None = None,
) -> int | None:
    """Hold a budgeted client's worst case for this call (a chat's `messages`, an
    embed's `inputs`) until its record commits (`CallLog.finish` gives it back), or
    refuse the call; every door calls this once the body is valid. Returns the max
    tokens to send upstream: a budgeted chat without its own gets the default."""
    if messages:
        max_tokens = chat_max_tokens(client, max_tokens)
    if client.has_budget:
        tokens = worst_case_tokens(messages=messages, inputs=inputs, max_tokens=max_tokens)
        call.reservation = await reserve_budget(client, tokens=tokens)
    return max_tokens


def caller_identifier(value: str | None, name: str) -> str | None:
    """An id a caller gives outside a v1 envelope (a header, an MCP client's name),
    held to the envelope's rule: at most MAX_ID_LENGTH characters once trimmed, or
    refused (never cut); blank is absent."""
    value = (value or "").strip()
    if len(value) > MAX_ID_LENGTH:
        raise BadRequest(
            f"{name}: Ensure this field has no more than {MAX_ID_LENGTH} characters.", param=name
        )
    return value or None


class ApiView(View):
    """An async v1 endpoint: `handle` does the work; failures become error bodies.

    Another door (the OpenAI-compatible API) subclasses it with its own `door`
    and `error_response`, and so shares the call log and record of each call."""

    api_method = ""
    door = CallDoor.V1

    @classonlymethod
    def as_view(cls, **initkwargs: Any):
        return csrf_exempt(super().as_view(**initkwargs))

    async def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.call = CallLog(self.api_method, door=self.door)
        self.call.came_from(request)
        trace = self.call.start_trace(request.headers)
        try:
            response = await self._handle(request, *args, **kwargs)
        finally:
            if trace is not None:
                leave_span(trace)
        if response.streaming:
            return response  # a stream finishes its call when it ends
        try:
            await self.call.finish(response.status_code)
        except AuditWriteFailed as exc:
            # No answer leaves without its record: the caller retries instead.
            return self.error_response(exc)
        return response

    def error_response(self, exc: BaseException) -> HttpResponseBase:
        return error_response(exc, self.call.trace_id)

    async def _handle(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return await super().dispatch(request, *args, **kwargs)
        except asyncio.CancelledError:
            # The client hung up (the transport cancels us): nobody reads an
            # answer, but the call still gets its record.
            self.call.outcome = "cancelled"
            await self.call.finish(CLIENT_CLOSED_REQUEST)
            raise
        except Exception as exc:  # every failure answers in the door's error shape
            self.call.fail(exc)
            if not self.call.refused_before_auth:
                self._identify(request)
            return self.error_response(exc)

    async def admit(
        self, request: HttpRequest, serializer_class: type[StrictSerializer] | None
    ) -> tuple[CallerClient, dict[str, Any]]:
        """Authenticate, count against the client's limit, validate the body, then
        reserve the call's worst case against the client's token budgets."""
        client = await admit_caller(request, method=self.api_method, call=self.call, budget=False)
        if serializer_class is None:
            if client.has_budget:
                await check_budget(client)  # spends nothing: a read is enough
            return client, {}
        data = validate(serializer_class, request)
        self.call.request_id = data["requestId"]
        self.call.caller_tool = data["callerTool"]
        self.call.prompt = data.get("messages") or data.get("inputs")
        messages = [ChatMessage(m["role"], m["content"]) for m in data.get("messages", ())]
        max_tokens = await reserve_call(
            client, self.call, messages=messages, inputs=data.get("inputs", ()),
            max_tokens=data.get("maxTokens"),
        )  # fmt: skip
        if max_tokens is not None:
            data["maxTokens"] = max_tokens
        return client, data

    def _identify(self, request: HttpRequest) -> None:
        """Keep requestId and callerTool for the record, however the call ends."""
        try:
            body = json_body(request)
        except BadRequest:
            return  # validation answers it; the record has no ids to keep
        if isinstance(body, Mapping):
            self.call.identified(body.get("requestId"), body.get("callerTool"))
