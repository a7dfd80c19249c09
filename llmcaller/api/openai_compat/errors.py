"""Failures in OpenAI's error shape: `{"error": {message, type, param, code}}`.

The HTTP status, the message and the retry hint (clamped to 60 s) are the v1
API's, from `llmcaller.errors.error_shape`; only the body differs. `type` is
the OpenAI family the SDKs know, `code` the gateway's own error class in lower
case, so a caller can tell a throttled provider (`rate_limit`) from a refused
credential (`unauthenticated`). `Retry-After` and `retry-after-ms` both carry
the hint: the official SDKs read the second first.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import JsonResponse

from llmcaller.errors import ErrorShape, error_shape

_TYPES = {
    "BAD_REQUEST": "invalid_request_error",
    "UNAUTHENTICATED": "authentication_error",
    "FORBIDDEN": "permission_error",
    "RATE_LIMIT": "rate_limit_error",
    "PERMANENT": "invalid_request_error",
    "TEMPORARY": "server_error",
    "AUTH": "server_error",
    "CONFIG": "server_error",
}


def openai_error(exc: BaseException) -> dict[str, Any]:
    """The `error` object for `exc` (also the body of a stream's error chunk)."""
    shape = error_shape(exc)
    return {
        "message": shape.message,
        "type": _TYPES.get(shape.code, "server_error"),
        "param": getattr(exc, "param", None),
        "code": shape.code.lower(),
    }


def openai_error_response(exc: BaseException) -> JsonResponse:
    shape: ErrorShape = error_shape(exc)
    response = JsonResponse({"error": openai_error(exc)}, status=shape.status)
    if shape.retry_after is not None:
        response["Retry-After"] = str(math.ceil(shape.retry_after))
        response["retry-after-ms"] = str(int(shape.retry_after * 1000))
    return response
