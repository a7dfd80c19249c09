"""The API's own ASGI transport, over loopback: what it keeps of Django's handler."""

from __future__ import annotations

import httpx

from audit.models import CallRecord
from audit.types import CallOutcome
from tests.llmcaller.helpers import chat_body


def test_an_answer_says_its_length(api, provider):
    response = api.post("/mcp/chat", json=chat_body())

    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    assert "transfer-encoding" not in response.headers


def test_a_body_over_the_upload_limit_is_a_bad_request(api, provider, settings, upstream):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = api.post("/mcp/chat", json=chat_body("x" * 20_000))

    assert response.status_code == 400
    assert response.json()["error"] == "BAD_REQUEST"
    assert response.json()["message"] == "The request body is larger than 10000 bytes."
    assert upstream.requests().get("/v1/chat/completions", 0) == 0
    assert CallRecord.objects.get().outcome == CallOutcome.INVALID_REQUEST


def test_a_body_within_the_limit_is_served(api, provider, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    assert api.post("/mcp/chat", json=chat_body("x" * 9_000)).status_code == 200


def test_other_paths_are_served_by_django(gateway):
    login = httpx.get(f"{gateway}/admin/login/", trust_env=False)

    assert login.status_code == 200
    assert "csrftoken" in login.cookies  # the stock middleware ran


def test_a_wrong_method_is_refused_with_the_allowed_one(api):
    response = api.get("/mcp/chat")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"
