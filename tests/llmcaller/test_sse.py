"""llmcaller.sse on its own: framing, guards, and failures mid-stream."""

from __future__ import annotations

import logging

from llmcaller.sse import DONE, delta_frames, encode_stream, frame
from providers.errors import UpstreamTemporary
from providers.types import ChatDelta, ChatMessage, ChatResult, Usage
from routing.types import RoutedChat, RoutingInfo, StreamCompleted


class Observer:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.failures: list[BaseException] = []
        self.done = False

    def delta(self, text: str) -> None:
        self.seen.append(text)

    def completed(self, event: StreamCompleted) -> None:
        self.done = True

    def failed(self, exc: BaseException) -> None:
        self.failures.append(exc)


async def _events(*items: object):
    for item in items:
        if isinstance(item, BaseException):
            raise item
        yield item


async def _encode(first: object, *rest: object, observer: Observer | None = None) -> bytes:
    lines = encode_stream(
        first,
        _events(*rest),
        trace_id="t1",
        completion=lambda event: {"answer": event.routed.result.message.content},
        observer=observer or Observer(),
    )
    return b"".join([line async for line in lines])


def _completed(text: str) -> StreamCompleted:
    result = ChatResult("m", ChatMessage("assistant", text), Usage(1, 2))
    return StreamCompleted(RoutedChat(result, "p", "m", RoutingInfo("chat", "fallback", ())))


def test_a_frame_is_compact_json_after_data_and_a_blank_line():
    assert frame({"a": "é\n", "b": [1]}) == 'data: {"a":"é\\n","b":[1]}\n\n'.encode()


def test_control_characters_are_stripped_but_newline_and_tab_kept():
    assert delta_frames("a\x00b\x1b[0m\tc\nd\r\x7f", 100) == [
        b'data: {"type":"delta","delta":{"content":"ab[0m\\tc\\nd"}}\n\n'
    ]


def test_a_delta_made_only_of_control_characters_sends_nothing():
    assert delta_frames("\x00\x01", 100) == []


async def test_a_whole_stream_ends_with_completion_and_done():
    body = await _encode(ChatDelta("Hi"), ChatDelta(" there"), _completed("Hi there"))

    assert body == (
        b'data: {"type":"delta","delta":{"content":"Hi"}}\n\n'
        b'data: {"type":"delta","delta":{"content":" there"}}\n\n'
        b'data: {"type":"completion","payload":{"answer":"Hi there"},"traceId":"t1"}\n\n' + DONE
    )


async def test_a_failure_mid_stream_sends_the_error_event_then_done():
    observer = Observer()

    body = await _encode(
        ChatDelta("Hi"), UpstreamTemporary("upstream said: secret stuff"), observer=observer
    )

    lines = body.split(b"\n\n")
    assert lines[1].startswith(b'data: {"error":"TEMPORARY","message":')
    assert b"secret stuff" not in body
    assert b'"traceId":"t1"' in lines[1]
    assert body.endswith(b"\n\n" + DONE)
    assert observer.seen == ["Hi"] and len(observer.failures) == 1


async def test_non_text_payloads_are_dropped_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="llmcaller.sse"):
        body = await _encode(ChatDelta("a"), {"image": b"..."}, ChatDelta(42), _completed("a"))

    assert body.count(b'"type":"delta"') == 1
    assert len([r for r in caplog.records if r.name == "llmcaller.sse"]) == 2
