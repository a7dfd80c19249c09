"""A stream from an upstream that sends no usage: estimated, said so, and counted."""

from __future__ import annotations

import json
import math

import pytest

from audit.models import CallRecord
from llmcaller.models import Client
from tests.llmcaller.helpers import chat_body

PROMPT = "count the tokens of this prompt please"


def _completion(content: bytes) -> dict:
    [line] = [line for line in content.split(b"\n\n") if b'"type":"completion"' in line]
    return json.loads(line[len(b"data: ") :])["payload"]


def test_a_stream_without_usage_is_estimated_and_marked_so(api, provider, upstream):
    upstream.set(omit_stream_usage=True)

    response = api.post("/mcp/chatStream", json=chat_body(PROMPT))

    payload = _completion(response.content)
    answer = payload["message"]["content"]
    assert payload["usage"] == {
        "inputTokens": math.ceil(len(PROMPT) / 4) + 4,  # the documented estimate
        "outputTokens": math.ceil(len(answer) / 4),
        "estimated": True,
    }
    assert response.content.endswith(b"data: [DONE]\n\n")
    record = CallRecord.objects.get()
    assert record.usage_estimated is True
    assert (record.input_tokens, record.output_tokens) == (
        payload["usage"]["inputTokens"],
        payload["usage"]["outputTokens"],
    )


def test_a_stream_with_usage_keeps_the_upstreams_count_unmarked(api, provider):
    payload = _completion(api.post("/mcp/chatStream", json=chat_body(PROMPT)).content)

    assert set(payload["usage"]) == {"inputTokens", "outputTokens"}
    assert CallRecord.objects.get().usage_estimated is False


@pytest.mark.usefixtures("clock")
def test_estimated_streams_count_against_the_budget(api, provider, upstream):
    Client.objects.filter(tool_id="tests").update(daily_token_budget=20)
    upstream.set(omit_stream_usage=True)

    first = api.post("/mcp/chatStream", json=chat_body(PROMPT * 2))
    refused = api.post("/mcp/chatStream", json=chat_body(PROMPT))

    assert first.status_code == 200
    assert refused.status_code == 429 and refused.json()["error"] == "RATE_LIMIT"
