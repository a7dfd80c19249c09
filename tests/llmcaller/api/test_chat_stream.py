"""POST /mcp/chatStream over loopback: byte-exact SSE, split deltas, failures, disconnects."""

from __future__ import annotations

import json
import time

import httpx

from llmcaller.models import Client
from tests.llmcaller.helpers import CHAT_MODEL, SlowStreamUpstream, chat_body, running_asgi


def _completion_line(trace_id: str, content: str, usage: tuple[int, int], routing: dict) -> bytes:
    payload = {
        "type": "completion",
        "payload": {
            "message": {"role": "assistant", "content": content},
            "usage": {"inputTokens": usage[0], "outputTokens": usage[1]},
            "providerInfo": {
                "name": "sandbox",
                "model": CHAT_MODEL,
                "routing": routing,
            },
        },
        "traceId": trace_id,
    }
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _completion(content: bytes) -> dict:
    [line] = [line for line in content.split(b"\n\n") if b'"type":"completion"' in line]
    return json.loads(line[6:])


def _delta_line(text: str) -> bytes:
    return b'data: {"type":"delta","delta":{"content":' + json.dumps(text).encode() + b"}}\n\n"


def _trace_id(body: bytes) -> str:
    completion = [line for line in body.split(b"\n\n") if b'"completion"' in line][0]
    return json.loads(completion[len(b"data: ") :])["traceId"]


def test_the_stream_is_byte_exact_deltas_then_completion_then_done(api, provider):
    response = api.post("/mcp/chatStream", json=chat_body("hi"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    words = ["Sandbox", " reply", " to:", " hi"]
    # The routing metadata carries timings, so it is read back and checked on its own.
    routing = _completion(response.content)["payload"]["providerInfo"]["routing"]
    expected = b"".join(_delta_line(w) for w in words)
    expected += _completion_line(
        _trace_id(response.content), "Sandbox reply to: hi", (1, 4), routing
    )
    expected += b"data: [DONE]\n\n"
    assert response.content == expected
    assert (routing["capability"], routing["strategy"]) == ("chatStream", "capability-default")
    assert [a["outcome"] for a in routing["attempts"]] == ["ok"]


def test_a_delta_longer_than_the_chunk_size_is_split_not_cut(api, provider, settings):
    settings.LLMCALLER_STREAM_CHUNK_SIZE = 3

    response = api.post("/mcp/chatStream", json=chat_body("hi"))

    deltas = [
        json.loads(line[6:])["delta"]["content"]
        for line in response.content.split(b"\n\n")
        if line.startswith(b'data: {"type":"delta"')
    ]
    assert deltas == ["San", "dbo", "x", " re", "ply", " to", ":", " hi"]
    assert "".join(deltas) == "Sandbox reply to: hi"


def test_a_failure_after_the_first_delta_sends_the_error_event_then_done(api, provider, upstream):
    upstream.set(break_stream_after=2)

    response = api.post("/mcp/chatStream", json=chat_body("hi"))

    assert response.status_code == 200
    lines = response.content.split(b"\n\n")
    assert lines[:2] == [_delta_line("Sandbox")[:-2], _delta_line(" reply")[:-2]]
    error = json.loads(lines[2][6:])
    assert error["error"] == "TEMPORARY"
    assert set(error) == {"error", "message", "traceId"}
    assert lines[3:] == [b"data: [DONE]", b""]
    # Never switch model mid-answer: the broken stream is not retried.
    assert upstream.requests()["/v1/chat/completions"] == 1


def test_a_failure_before_any_delta_answers_with_its_status_and_retry_after(
    api, provider, upstream
):
    upstream.set(rate_limit_retry_after=3600)

    response = api.post("/mcp/chatStream", json=chat_body())

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert response.json()["retryAfterMs"] == 60000


def test_a_stream_failing_before_its_first_delta_is_retried(api, provider, upstream):
    upstream.set(error_status=500)

    response = api.post("/mcp/chatStream", json=chat_body())

    assert response.status_code == 503
    assert upstream.requests()["/v1/chat/completions"] == 2


def test_a_client_that_hangs_up_stops_the_upstream_stream(api, provider):
    slow = SlowStreamUpstream(interval=0.05)
    with running_asgi(slow) as url:
        provider.base_url = url
        provider.save()  # publishes a new active version
        with api.stream("POST", "/mcp/chatStream", json=chat_body()) as response:
            first = next(response.iter_bytes())
            assert first.startswith(b'data: {"type":"delta"')
        hung_up = time.monotonic()

        assert slow.closed.wait(timeout=5), "the upstream stream was left open"
        assert time.monotonic() - hung_up < 2
        sent = slow.chunks_sent
        time.sleep(0.3)
        assert slow.chunks_sent == sent  # nothing more is produced for nobody
        assert slow.opened == 1


def test_a_client_over_its_concurrent_streams_is_rate_limited(gateway, token, provider):
    Client.objects.filter(tool_id="tests").update(max_concurrent_streams=1)
    slow = SlowStreamUpstream(interval=0.05)
    headers = {"x-llm-caller-token": token}
    with (
        running_asgi(slow) as url,
        httpx.Client(base_url=gateway, headers=headers, timeout=10) as api,
    ):
        provider.base_url = url
        provider.save()  # publishes a new active version
        with api.stream("POST", "/mcp/chatStream", json=chat_body()) as open_stream:
            chunks = open_stream.iter_bytes()  # held: a dropped iterator closes the stream
            next(chunks)
            refused = api.post("/mcp/chatStream", json=chat_body())
        assert slow.closed.wait(timeout=5)
        time.sleep(0.1)  # the slot is given back when the stream's generator ends
        with api.stream("POST", "/mcp/chatStream", json=chat_body()) as again:
            again_status = again.status_code

    assert refused.status_code == 429
    assert refused.json()["error"] == "RATE_LIMIT"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert again_status == 200
