"""A stream whose call record cannot be committed: no completion, the error event, [DONE];
on v1 and on the OpenAI-compatible door's chat completion and Responses streams."""

from __future__ import annotations

import json

from audit.models import CallRecord, ChainHead
from audit.services import record_call_sync
from tests.audit.factories import CallRecordDataFactory
from tests.llmcaller.helpers import chat_body


def _events(content: bytes) -> list[dict | str]:
    """Each event's `data` (a Responses event's `event:` line before it is left out)."""
    blocks = [block.split(b"\n")[-1] for block in content.split(b"\n\n") if block]
    lines = [line[len(b"data: ") :] for line in blocks]
    return [line.decode() if line == b"[DONE]" else json.loads(line) for line in lines]


def _break_the_next_commit() -> None:
    """A real failure of the next batch: its first record reuses a taken chain seq."""
    record_call_sync(CallRecordDataFactory.build())
    ChainHead.objects.filter(pk=1).update(seq=0)


def test_a_failed_record_commit_ends_the_stream_with_the_error_event_not_a_completion(
    api, provider
):
    _break_the_next_commit()

    response = api.post("/mcp/chatStream", json=chat_body())

    events = _events(response.content)
    assert response.status_code == 200
    assert {e["type"] for e in events[:-2]} == {"delta"}
    assert events[-2]["error"] == "TEMPORARY"
    assert events[-2]["message"] == "The call could not be recorded; retry."
    assert events[-1] == "[DONE]"
    assert CallRecord.objects.count() == 1  # only the one made to break the chain


def test_a_stream_that_failed_upstream_still_ends_with_done_when_its_record_fails(
    api, provider, upstream
):
    upstream.set(break_stream_after=1)
    _break_the_next_commit()

    events = _events(api.post("/mcp/chatStream", json=chat_body()).content)

    assert events[-2]["error"] == "TEMPORARY" and events[-1] == "[DONE]"


def test_the_gateway_keeps_serving_after_a_failed_stream_record(api, provider):
    _break_the_next_commit()
    api.post("/mcp/chatStream", json=chat_body())
    ChainHead.objects.filter(pk=1).update(seq=CallRecord.objects.count())

    events = _events(api.post("/mcp/chatStream", json=chat_body()).content)

    assert events[-2]["type"] == "completion" and events[-1] == "[DONE]"


HI = [{"role": "user", "content": "hi"}]
NOT_RECORDED = {
    "message": "The call could not be recorded; retry.", "type": "server_error",
    "param": None, "code": "temporary",
}  # fmt: skip


def test_a_failed_record_commit_ends_an_openai_stream_with_the_error_chunk_not_a_finish(
    api, provider
):
    _break_the_next_commit()
    body = {
        "model": "auto",
        "messages": HI,
        "stream": True,
        "stream_options": {"include_usage": True},
    }

    response = api.post("/v1/chat/completions", json=body)

    events = _events(response.content)
    assert response.status_code == 200
    assert events[-2:] == [{"error": NOT_RECORDED}, "[DONE]"]
    chunks = events[:-2]
    assert chunks and all(
        c["choices"][0]["finish_reason"] is None for c in chunks
    )  # no usage either
    assert CallRecord.objects.count() == 1  # only the one made to break the chain


def test_a_failed_openai_stream_still_ends_with_done_when_its_record_fails(api, provider, upstream):
    upstream.set(break_stream_after=1)
    _break_the_next_commit()

    body = {"model": "auto", "messages": HI, "stream": True}
    events = _events(api.post("/v1/chat/completions", json=body).content)

    assert events[-2]["error"]["code"] == "temporary" and events[-1] == "[DONE]"


def test_a_failed_record_commit_ends_a_responses_stream_as_failed_not_completed(api, provider):
    _break_the_next_commit()

    response = api.post("/v1/responses", json={"model": "auto", "input": "hi", "stream": True})

    events = _events(response.content)
    types = [event["type"] for event in events]
    assert response.status_code == 200
    assert "response.output_text.delta" in types
    assert not {"response.output_text.done", "response.completed"} & set(types)
    assert types[-2:] == ["error", "response.failed"]
    assert (events[-2]["code"], events[-2]["message"]) == ("temporary", NOT_RECORDED["message"])
    assert events[-1]["response"]["status"] == "failed"


def test_a_failed_responses_stream_still_ends_failed_when_its_record_fails(api, provider, upstream):
    upstream.set(break_stream_after=1)
    _break_the_next_commit()

    response = api.post("/v1/responses", json={"model": "auto", "input": "hi", "stream": True})

    assert [event["type"] for event in _events(response.content)][-2:] == [
        "error",
        "response.failed",
    ]
