"""The one place errors become the v1 error body and HTTP status.

    error           HTTP  raised as
    BAD_REQUEST     400   BadRequest (schema violation)
    UNAUTHENTICATED 401   Unauthenticated (no, unknown, expired or revoked token)
    FORBIDDEN       403   Forbidden (method not allowed), AddressRefused
    RATE_LIMIT      429   RateLimited (client limits), BudgetSpent, AddressLimited,
                          UpstreamRateLimited
    TEMPORARY       503   UpstreamTemporary (after retries and fallbacks)
    PERMANENT       422   UpstreamPermanent, UnsupportedCapability, RouteRefused
    AUTH            502   UpstreamAuthRejected (our credential was refused)
    TEMPORARY       503   AuditWriteFailed (no answer leaves without its call record)
    CONFIG          500   RouteMisconfigured, CredentialUnavailable (naming the provider
                          only), UnknownAdapterKind, anything unforeseen (logged with
                          the call's trace id: a bug to find, not a config)

Every message is ours: upstream text never reaches a caller (the adapters' own
detail goes to the log). Retry hints are clamped to 60 s, header and body alike.
Refusals raised before the caller's client is known carry `before_auth` and a
short `reason`: they are counted (`audit.refusals`), not chained one record each.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from django.http import JsonResponse

from audit.services import AuditWriteFailed
from providers.adapters import UnknownAdapterKind
from providers.errors import (
    CredentialUnavailable,
    UnsupportedCapability,
    UpstreamAuthRejected,
    UpstreamError,
    UpstreamPermanent,
    UpstreamRateLimited,
    UpstreamTemporary,
)
from routing.errors import RouteMisconfigured, RouteRefused, RoutingError

logger = logging.getLogger("llmcaller.errors")

MAX_RETRY_AFTER = 60.0
DEFAULT_UPSTREAM_RETRY_AFTER = 1.0


class ApiError(Exception):
    """A refusal of the gateway's own, with a message fit for the caller."""

    code = "CONFIG"
    status = 500
    before_auth = False  # refused before the caller's client was known

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        param: str | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.param = param  # the request field at fault, when one is
        self.reason = reason or self.code.lower()


class BadRequest(ApiError):
    code, status = "BAD_REQUEST", 400


class Unauthenticated(ApiError):
    code, status = "UNAUTHENTICATED", 401
    before_auth = True


class Forbidden(ApiError):
    code, status = "FORBIDDEN", 403


class RateLimited(ApiError):
    code, status = "RATE_LIMIT", 429


class AddressRefused(Forbidden):
    """The caller's address is outside `LLMCALLER_ALLOWED_NETWORKS`."""

    before_auth = True


class AddressLimited(RateLimited):
    """The caller's address is over `LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE`."""

    before_auth = True


class BudgetSpent(RateLimited):
    """The client's daily or monthly token budget is spent."""


@dataclass(frozen=True)
class ErrorShape:
    code: str
    status: int
    message: str
    retry_after: float | None = None

    def body(self, trace_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message, "traceId": trace_id}
        if self.retry_after is not None:
            body["retryAfterMs"] = int(self.retry_after * 1000)
        return body


def clamp_retry_after(seconds: float | None) -> float | None:
    return None if seconds is None else min(max(float(seconds), 0.0), MAX_RETRY_AFTER)


def error_shape(exc: BaseException) -> ErrorShape:
    """What `exc` means to a caller; the table in this module's docstring."""
    if isinstance(exc, ApiError):
        return ErrorShape(exc.code, exc.status, exc.message, clamp_retry_after(exc.retry_after))
    if isinstance(exc, UpstreamError):
        return _upstream_shape(exc)
    if isinstance(exc, RouteRefused):
        return ErrorShape("PERMANENT", 422, exc.detail)
    if isinstance(exc, (RouteMisconfigured, RoutingError)):
        return ErrorShape("CONFIG", 500, exc.detail)
    if isinstance(exc, AuditWriteFailed):
        return ErrorShape("TEMPORARY", 503, "The call could not be recorded; retry.", 1.0)
    if isinstance(exc, UnknownAdapterKind):
        return ErrorShape("CONFIG", 500, "The chosen provider has no adapter for its kind.")
    return UNEXPECTED


UNEXPECTED = ErrorShape("CONFIG", 500, "The gateway failed unexpectedly; see its log.")


def _upstream_shape(exc: UpstreamError) -> ErrorShape:
    if isinstance(exc, UpstreamRateLimited):
        wait = exc.retry_after if exc.retry_after is not None else DEFAULT_UPSTREAM_RETRY_AFTER
        message = "The provider is throttling requests; retry later."
        return ErrorShape("RATE_LIMIT", 429, message, clamp_retry_after(wait))
    if isinstance(exc, UpstreamTemporary):
        message = "The provider failed to answer; retry later."
        return ErrorShape("TEMPORARY", 503, message, clamp_retry_after(exc.retry_after))
    if isinstance(exc, UpstreamAuthRejected):
        return ErrorShape("AUTH", 502, "The provider rejected the gateway's credential.")
    if isinstance(exc, CredentialUnavailable):
        return ErrorShape("CONFIG", 500, exc.detail)  # names the provider, nothing more
    if isinstance(exc, UnsupportedCapability):
        return ErrorShape("PERMANENT", 422, "The provider does not support this capability.")
    if isinstance(exc, UpstreamPermanent):
        return ErrorShape("PERMANENT", 422, "The provider refused the request; do not retry.")
    return ErrorShape("TEMPORARY", 503, "The provider failed to answer; retry later.")


def error_body(exc: BaseException, trace_id: str) -> dict[str, Any]:
    """The error as the body (or the SSE error event) says it."""
    return _answered_shape(exc, trace_id).body(trace_id)


def error_response(exc: BaseException, trace_id: str) -> JsonResponse:
    shape = _answered_shape(exc, trace_id)
    response = JsonResponse(shape.body(trace_id), status=shape.status)
    if shape.retry_after is not None:
        response["Retry-After"] = str(math.ceil(shape.retry_after))
    return response


def _answered_shape(exc: BaseException, trace_id: str) -> ErrorShape:
    """`error_shape`, logging an unforeseen failure once, as it is answered, with the
    trace id the caller sees, so the log line can be found from the answer."""
    shape = error_shape(exc)
    if shape is UNEXPECTED:
        logger.error("Unexpected failure (traceId %s)", trace_id, exc_info=exc)
    return shape
