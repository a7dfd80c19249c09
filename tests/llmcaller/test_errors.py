"""llmcaller.errors: every row of the v1 error table, clamping, and our own messages."""

from __future__ import annotations

import json
import logging

import pytest

from llmcaller.errors import (
    BadRequest,
    Forbidden,
    RateLimited,
    Unauthenticated,
    error_body,
    error_response,
)
from providers.adapters import adapter_class
from providers.errors import (
    UnsupportedCapability,
    UpstreamAuthRejected,
    UpstreamPermanent,
    UpstreamRateLimited,
    UpstreamTemporary,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from routing.errors import RouteMisconfigured, RouteRefused

LEAK = "upstream body: {'error': 'key sk-live-123 invalid'}"


@pytest.mark.parametrize(
    ("exc", "code", "status"),
    [
        (BadRequest("messages: required"), "BAD_REQUEST", 400),
        (Unauthenticated("no"), "UNAUTHENTICATED", 401),
        (Forbidden("no"), "FORBIDDEN", 403),
        (RateLimited("slow down", retry_after=3), "RATE_LIMIT", 429),
        (UpstreamRateLimited(LEAK, retry_after=5), "RATE_LIMIT", 429),
        (UpstreamTemporary(LEAK), "TEMPORARY", 503),
        (UpstreamTimeout(LEAK), "TEMPORARY", 503),
        (UpstreamUnreachable(LEAK), "TEMPORARY", 503),
        (UpstreamPermanent(LEAK), "PERMANENT", 422),
        (UnsupportedCapability(LEAK), "PERMANENT", 422),
        (RouteRefused("Model 'x' is not available."), "PERMANENT", 422),
        (UpstreamAuthRejected(LEAK), "AUTH", 502),
        (RouteMisconfigured("No provider is configured and enabled."), "CONFIG", 500),
        (LookupError("a stray KeyError"), "CONFIG", 500),
        (ZeroDivisionError("bug"), "CONFIG", 500),
    ],
)
def test_each_error_maps_to_its_code_and_status_with_our_message(exc, code, status):
    response = error_response(exc, "trace-1")

    body = json.loads(response.content)
    assert (response.status_code, body["error"], body["traceId"]) == (status, code, "trace-1")
    assert "sk-live" not in body["message"] and "upstream body" not in body["message"]
    assert body["message"]


@pytest.mark.parametrize(
    ("retry_after", "header", "ms"), [(3600, "60", 60000), (0.2, "1", 200), (None, "1", 1000)]
)
def test_upstream_retry_hints_are_clamped_to_sixty_seconds(retry_after, header, ms):
    response = error_response(UpstreamRateLimited("x", retry_after=retry_after), "t")

    assert response["Retry-After"] == header
    assert json.loads(response.content)["retryAfterMs"] == ms


def test_our_own_rate_limit_hint_is_clamped_too():
    assert error_body(RateLimited("x", retry_after=999), "t")["retryAfterMs"] == 60000


def test_an_error_without_a_hint_has_no_retry_fields():
    response = error_response(Forbidden("no"), "t")

    assert "Retry-After" not in response
    assert set(json.loads(response.content)) == {"error", "message", "traceId"}


def test_only_the_adapter_lookup_is_called_a_missing_adapter():
    with pytest.raises(LookupError) as missing:
        adapter_class("no-such-kind")

    assert "no adapter" in error_body(missing.value, "t")["message"]
    assert "no adapter" not in error_body(KeyError("messages"), "t")["message"]


def test_an_unexpected_error_is_logged_once_with_the_trace_id_the_caller_got(caplog):
    with caplog.at_level(logging.ERROR, logger="llmcaller.errors"):
        body = json.loads(error_response(KeyError("usage"), "trace-42").content)

    logged = [r for r in caplog.records if r.name == "llmcaller.errors"]
    assert body["traceId"] == "trace-42"
    assert len(logged) == 1 and "trace-42" in logged[0].getMessage()
    assert logged[0].exc_info[0] is KeyError


def test_an_expected_error_is_not_logged_as_a_failure(caplog):
    with caplog.at_level(logging.ERROR, logger="llmcaller.errors"):
        error_response(adapter_failure(), "t")

    assert not [r for r in caplog.records if r.name == "llmcaller.errors"]


def adapter_failure() -> LookupError:
    try:
        adapter_class("no-such-kind")
    except LookupError as exc:
        return exc
    raise AssertionError("the registry knows every kind")
