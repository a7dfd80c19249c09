"""Failures in OpenAI's shape: the v1 status and message, OpenAI's type family,
the gateway's code, and the clamped retry hint in both headers."""

from __future__ import annotations

import json

import pytest

from llmcaller.api.openai_compat.errors import openai_error, openai_error_response
from llmcaller.errors import BadRequest, Forbidden, RateLimited, Unauthenticated
from providers.errors import UpstreamAuthRejected, UpstreamRateLimited, UpstreamTemporary
from routing.errors import RouteRefused


@pytest.mark.parametrize(
    ("exc", "status", "type_", "code"),
    [
        (BadRequest("temperature: too hot", param="temperature"), 400,
         "invalid_request_error", "bad_request"),
        (Unauthenticated("no"), 401, "authentication_error", "unauthenticated"),
        (Forbidden("no"), 403, "permission_error", "forbidden"),
        (RateLimited("slow down", retry_after=5), 429, "rate_limit_error", "rate_limit"),
        (RouteRefused("nothing fits"), 422, "invalid_request_error", "permanent"),
        (UpstreamTemporary("secret upstream words"), 503, "server_error", "temporary"),
        (UpstreamAuthRejected("secret upstream words"), 502, "server_error", "auth"),
    ],
)  # fmt: skip
def test_each_failure_maps_to_its_status_type_and_code(exc, status, type_, code) -> None:
    response = openai_error_response(exc)
    error = json.loads(response.content)["error"]
    assert response.status_code == status
    assert (error["type"], error["code"]) == (type_, code)
    assert set(error) == {"message", "type", "param", "code"}
    assert "secret upstream words" not in error["message"]  # upstream text never reaches a caller


def test_the_field_at_fault_is_the_param() -> None:
    assert openai_error(BadRequest("x", param="messages[0].role"))["param"] == "messages[0].role"


def test_the_retry_hint_is_clamped_to_a_minute_in_both_headers() -> None:
    response = openai_error_response(UpstreamRateLimited("slow", retry_after=3600))
    assert (response["Retry-After"], response["retry-after-ms"]) == ("60", "60000")
