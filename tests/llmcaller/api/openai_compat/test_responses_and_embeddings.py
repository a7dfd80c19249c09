"""POST /v1/responses and /v1/embeddings on the wire: named events, a stream
failing midway, base64 bytes, refused inputs, call records."""

from __future__ import annotations

import base64
import json
import struct

from audit.models import CallRecord
from providers.sandbox.embeddings import embed_vector
from tests.llmcaller.helpers import EMBED_MODEL


def _named_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in filter(None, text.split("\n\n")):
        kind, data = block.split("\n")
        events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def test_instructions_come_first_as_a_system_message(api, provider) -> None:
    response = api.post(
        "/v1/responses", json={"model": "auto", "input": "hi", "instructions": "Be brief."}
    )
    body = response.json()
    assert body["object"] == "response" and body["instructions"] == "Be brief."
    assert body["output"][0]["content"][0]["text"] == "Sandbox reply to: hi"
    record = CallRecord.objects.get(trace_id=response.headers["x-request-id"])
    assert record.door == "openai" and record.input_tokens == 3  # "Be brief." and "hi"


def test_each_stream_event_is_named_as_its_type(api, provider) -> None:
    response = api.post("/v1/responses", json={"model": "auto", "input": "hi", "stream": True})
    events = _named_events(response.text)
    assert all(kind == data["type"] for kind, data in events)
    assert events[-1][1]["response"]["usage"]["output_tokens"] == 4


def test_a_responses_stream_failing_midway_says_error_then_failed(api, provider, upstream) -> None:
    upstream.set(break_stream_after=2)
    response = api.post("/v1/responses", json={"model": "auto", "input": "hi", "stream": True})
    kinds = [kind for kind, _data in _named_events(response.text)]
    assert kinds[-2:] == ["error", "response.failed"]
    assert kinds.count("response.output_text.delta") == 2
    record = CallRecord.objects.get(trace_id=response.headers["x-request-id"])
    assert (record.method, record.outcome) == ("chatStream", "upstream_error")


def test_input_that_is_not_text_is_refused(api, provider) -> None:
    image = [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]
    response = api.post("/v1/responses", json={"model": "auto", "input": image})
    assert response.status_code == 400 and response.json()["error"]["param"] == "input"


def test_base64_vectors_are_little_endian_float32(api, provider) -> None:
    body = {"model": EMBED_MODEL, "input": "a", "encoding_format": "base64"}
    response = api.post("/v1/embeddings", json=body)
    packed = base64.b64decode(response.json()["data"][0]["embedding"])
    floats = struct.unpack(f"<{len(packed) // 4}f", packed)
    expected = struct.unpack("<8f", struct.pack("<8f", *embed_vector("a", 8)))
    assert floats == expected
    record = CallRecord.objects.get(trace_id=response.headers["x-request-id"])
    assert (record.door, record.method) == ("openai", "embed")


def test_token_arrays_are_refused(api, provider) -> None:
    response = api.post("/v1/embeddings", json={"model": EMBED_MODEL, "input": [[1, 2]]})
    assert response.status_code == 400 and response.json()["error"]["param"] == "input"
