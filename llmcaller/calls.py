"""One call, as the gateway saw it: a JSON log line and one call record.

A `CallLog` is filled in as a request goes (who called, which route answered,
tokens, the first token's time) and finished once, when the response or the
stream ends: it writes one line on the logger `llmcaller.calls` and awaits the
audit batch that commits the call record. Prompts and answers appear in the log
only when `LLMCALLER_LOG_PROMPTS` is on ("[redacted]" otherwise), and reach the
audit trail only for clients that opted in. Error classes are ours, never
upstream text. A refusal before the caller's client is known (a bad token, a
refused address or one over its limit) is counted in `audit.refusals` instead of
a call record of its own; every other call, rejected or not, has one record that
keeps its door, source address, token prefix, requestId and callerTool (when they
parsed) and the message the caller got.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from audit import clock
from audit.refusals import acount_refusal
from audit.selectors import Reservation, arelease_budget
from audit.services import AuditWriteFailed, record_call
from audit.types import CallDoor, CallOutcome, CallRecordData
from llmcaller.api.outputs import routing_json
from llmcaller.auth import caller_address, presented_token
from llmcaller.errors import (
    ApiError,
    BadRequest,
    BudgetSpent,
    Forbidden,
    RateLimited,
    Unauthenticated,
    error_shape,
)
from llmcaller.metrics import observe_call
from llmcaller.tokens import token_prefix
from providers.tracing import child_span, mark_failed, start_call_span, trace_id_of
from providers.types import Usage
from routing.errors import RoutingError
from routing.snapshot import acurrent_snapshot
from routing.types import RoutedChat, RoutedEmbed, StreamCompleted

logger = logging.getLogger("llmcaller.calls")
REDACTED = "[redacted]"
MAX_ID_LENGTH = 256  # requestId and callerTool, as the API accepts them


@dataclass
class CallLog:
    method: str
    door: str = CallDoor.V1
    trace_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)
    started_at: datetime = field(default_factory=lambda: clock.now())
    request_id: str = ""
    caller_tool: str = ""
    source_address: str = ""
    token_prefix: str = ""
    client: str = ""
    client_id: int | None = None
    has_budget: bool = True  # the client's, once admitted; unknown counts as budgeted
    keeps_content: bool = False
    retention_days: int | None = None
    provider: str = ""
    model: str = ""
    routing: dict[str, Any] | None = None  # `providerInfo.routing`, rendered once
    usage: Usage = field(default_factory=Usage)
    prompt: Any = None
    output: str | None = None
    output_chars: int = 0
    first_token: float | None = None
    outcome: str = "ok"
    failure: BaseException | None = None
    completed_stream: bool = False
    finished: bool = False
    reservation: Reservation | None = None  # budget tokens held until the record commits
    span: Any = None  # the call's trace span, when tracing is on

    def start_trace(self, headers: Mapping[str, str]) -> object | None:
        """Open the call's span under the caller's `traceparent` and make it current
        (the door calls `leave_span(token)` when its handler returns); the call's
        `traceId` becomes the trace's id. None when tracing is off."""
        started = start_call_span(f"{self.door} {self.method}", headers)
        if started is None:
            return None
        self.span, token = started
        self.trace_id = trace_id_of(self.span)
        return token

    # The version in force, for a call refused before routing named one.
    config_hash: str = ""
    config_version: int | None = None

    def came_from(self, request: HttpRequest) -> None:
        """Who is calling, before anything is checked: address and token prefix."""
        address = caller_address(request)
        self.source_address = str(address) if address else request.META.get("REMOTE_ADDR", "")
        self.token_prefix = token_prefix(presented_token(request))

    def identified(self, request_id: Any, caller_tool: Any) -> None:
        """The envelope's ids, kept even when the rest of the body is refused."""
        for name, value in (("request_id", request_id), ("caller_tool", caller_tool)):
            if isinstance(value, str) and len(value) <= MAX_ID_LENGTH:
                setattr(self, name, value)

    def admitted(self, client: Any) -> None:
        self.client, self.client_id = client.tool_id, client.id
        self.has_budget = client.has_budget
        self.keeps_content = client.keeps_content
        self.retention_days = client.content_retention_days

    def routed(self, routed: RoutedChat | RoutedEmbed) -> None:
        """Who answered; the answer's `providerInfo.routing` is `self.routing`."""
        self.provider, self.model, self.usage = routed.provider, routed.model, routed.result.usage
        self.routing = routing_json(routed.routing)

    def fail(self, exc: BaseException) -> None:
        self.outcome, self.failure = "error", exc
        client = getattr(exc, "client", None)  # known, but refused the method
        if client is not None and self.client_id is None:
            self.admitted(client)
        routing = getattr(exc, "routing", None)  # how far routing got
        if routing is not None:
            self.routing = routing_json(routing)
        if self.routing is not None and self.routing["attempts"]:
            last = self.routing["attempts"][-1]
            self.provider, self.model = last["provider"], last["model"]

    # --- a stream reports here (llmcaller.sse.StreamObserver) ---------------------

    def delta(self, text: str) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()
        self.output_chars += len(text)
        if self._keeps_text():
            self.output = (self.output or "") + text

    def completed(self, event: StreamCompleted) -> None:
        self.routed(event.routed)
        self.completed_stream = True

    def failed(self, exc: BaseException) -> None:
        self.fail(exc)

    # --- the end ---------------------------------------------------------------------

    async def finish(self, status: int) -> None:
        """Log the line and await the call record's commit; later calls do nothing."""
        if self.finished:
            return
        self.finished = True
        if self.routing is None:
            snapshot = await acurrent_snapshot()  # fresh: no query, no thread hop
            self.config_hash, self.config_version = snapshot.config_hash, snapshot.config_version
        if logger.isEnabledFor(logging.INFO):  # no line to build when none is written
            logger.info(json.dumps(self.as_dict(), ensure_ascii=False, default=str))
        observe_call(
            method=self.method, door=self.door, outcome=self._outcome(), provider=self.provider,
            model=self.model, seconds=time.perf_counter() - self.started,
            first_token_seconds=self.first_token - self.started if self.first_token else None,
        )  # fmt: skip
        if self.refused_before_auth:  # counted per source and minute, not a chained record
            await acount_refusal(
                at=self.started_at, source=self.source_address, reason=self.failure.reason,
                token_prefix=self.token_prefix, method=self.method,
            )  # fmt: skip
            return
        record = self.record(status)
        try:
            if self.span is None:
                await record_call(record)
            else:
                with child_span("audit write", parent=self.span):
                    await record_call(record)
        finally:
            if self.span is not None:
                self._end_span(record)
            # The record's real tokens are counted now (or never will be): stop holding.
            if self.reservation is not None:
                await arelease_budget(self.reservation)
                self.reservation = None

    def _end_span(self, record: CallRecordData) -> None:
        attributes = {
            "llmcaller.method": self.method, "llmcaller.door": self.door,
            "llmcaller.client": self.client, "llmcaller.provider": self.provider,
            "llmcaller.model": self.model, "llmcaller.outcome": record.outcome,
            "http.response.status_code": record.http_status or 0,
        }  # fmt: skip
        self.span.set_attributes(attributes)
        if record.error_class:
            mark_failed(self.span, record.error_class)
        self.span.end()

    @property
    def refused_before_auth(self) -> bool:
        return isinstance(self.failure, ApiError) and self.failure.before_auth

    async def end_stream(self) -> None:
        """A stream that neither completed nor failed was cut off by its client."""
        if not self.completed_stream and self.outcome == "ok":
            self.outcome = "cancelled"
        await self.finish(200)

    async def end_stream_quietly(self) -> None:
        """`end_stream` where the stream must still end as it should: a failed commit
        was logged by the audit writer, and the client has had (or will never read)
        its error line."""
        try:
            await self.end_stream()
        except AuditWriteFailed:
            pass

    def record(self, status: int) -> CallRecordData:
        routing = dict(self.routing or {})  # a copy: the record adds and moves keys
        if self.method == "chatStream":
            routing["streamedChars"] = self.output_chars  # a partial answer's length too
        return CallRecordData(
            request_id=self.request_id, trace_id=self.trace_id, method=self.method, door=self.door,
            outcome=self._outcome(), started_at=self.started_at, client_id=self.client_id,
            client_name=self.client, caller_tool=self.caller_tool, provider=self.provider,
            model=self.model, strategy=routing.get("strategy", ""), routing=routing,
            attempts=routing.pop("attempts", []), error_class=self._error_code(),
            http_status=status, latency_ms=self._ms(time.perf_counter()),
            ttft_ms=self._ms(self.first_token) if self.first_token else None,
            input_tokens=self.usage.input_tokens, output_tokens=self.usage.output_tokens,
            usage_estimated=self.usage.estimated,
            config_hash=routing.get("configHash", self.config_hash),
            config_version=routing.get("configVersion", self.config_version),
            source_address=self.source_address, token_prefix=self.token_prefix,
            message=self._message(),
            prompt_text=self._text(self.prompt) if self.keeps_content else None,
            response_text=self.output if self.keeps_content else None,
            content_retention_days=self.retention_days, client_has_budget=self.has_budget,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        show = settings.LLMCALLER_LOG_PROMPTS
        return {
            "event": "call", "method": self.method, "traceId": self.trace_id,
            "requestId": self.request_id, "callerTool": self.caller_tool, "client": self.client,
            "provider": self.provider, "model": self.model, "outcome": self.outcome,
            "error": self._error_code() or None,
            "errorClass": type(self.failure).__name__ if self.failure else None,
            "latencyMs": round((time.perf_counter() - self.started) * 1000, 1),
            "inputTokens": self.usage.input_tokens, "outputTokens": self.usage.output_tokens,
            "outputChars": self.output_chars,
            "route": _route_summary(self.routing),
            "prompt": self.prompt if show else REDACTED,
            "output": self.output if show else REDACTED,
        }  # fmt: skip

    def _outcome(self) -> str:
        if self.outcome == "cancelled":
            return CallOutcome.CLIENT_GONE
        if self.failure is None:
            return CallOutcome.SUCCESS
        for kinds, outcome in _REJECTIONS:
            if isinstance(self.failure, kinds):
                return outcome
        return CallOutcome.UPSTREAM_ERROR

    def _message(self) -> str:
        return error_shape(self.failure).message[:255] if self.failure is not None else ""

    def _error_code(self) -> str:
        return error_shape(self.failure).code if self.failure is not None else ""

    def _keeps_text(self) -> bool:
        return self.keeps_content or settings.LLMCALLER_LOG_PROMPTS

    def _ms(self, until: float) -> int:
        return round((until - self.started) * 1000)

    @staticmethod
    def _text(value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False)


# Refusals of the gateway's own, before any upstream was asked; the first match
# wins (a spent budget is also a RateLimited).
_REJECTIONS = (
    ((Unauthenticated, Forbidden), CallOutcome.REJECTED_AUTH),
    ((BudgetSpent,), CallOutcome.REJECTED_BUDGET),
    ((RateLimited,), CallOutcome.REJECTED_LIMIT),
    ((BadRequest,), CallOutcome.INVALID_REQUEST),
    ((RoutingError,), CallOutcome.NO_ROUTE),
)


def _route_summary(routing: dict[str, Any] | None) -> dict[str, Any] | None:
    """The decision in a log line: strategy, task, each attempt (faults marked)."""
    if routing is None:
        return None
    attempts = [
        f"{a['provider']}/{a['model']}:{a['outcome']}"
        + (f" [fault {a['fault']}]" if a["fault"] else "")
        for a in routing["attempts"]
    ]
    return {
        "strategy": routing["strategy"], "task": routing["task"], "attempts": attempts,
        "fallbackReason": routing["fallbackReason"], "cacheHit": routing["cacheHit"],
    }  # fmt: skip
