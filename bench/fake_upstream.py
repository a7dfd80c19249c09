"""A lean OpenAI-compatible upstream for benchmarks: answers in microseconds.

The sandbox upstream (about 6,000 calls/s here) is realistic but too slow to
measure a gateway that should add little; this answers the same shapes from
precomputed bytes on a bare asyncio protocol, so the figures measure the
gateway, not the upstream. Run: python bench/fake_upstream.py PORT [CHUNKS]
(a stream's content chunks, default 3; `make bench-peer` uses 20).

With `--slow-chunks N` a stream is slow instead, as a model generating text is:
N deltas, the first at once and then one every `--interval` seconds (default 1),
sent with chunked transfer encoding, then the usage and `[DONE]`. Each delta's
content is the upstream's wall-clock time when it sent it (`1764770000.123456 `),
so a client of the gateway on the same machine can tell the upstream's spacing
and the gateway's delay for every chunk (`bench/streams_scale.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

MODEL = "bench-model"
_CHAT = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": MODEL,
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "A benchmark answer."}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
}).encode()  # fmt: skip
_MODELS = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).encode()


def _sse(chunks: int) -> bytes:
    """A chat completion stream of `chunks` content deltas and a usage chunk, each
    with the fields OpenAI's own SDK reads (id, object, created)."""
    words = ["A ", "benchmark ", "answer."] if chunks == 3 else [f"w{i} " for i in range(chunks)]
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": MODEL}
    events = [
        {**head, "choices": [{"index": 0, "delta": {"content": word},
                              "finish_reason": "stop" if last else None}]}
        for last, word in ((i == len(words) - 1, w) for i, w in enumerate(words))
    ]  # fmt: skip
    usage = {"prompt_tokens": 5, "completion_tokens": chunks}
    events.append({**head, "choices": [], "usage": usage})
    body = b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)
    return body + b"data: [DONE]\n\n"


def _response(body: bytes, content_type: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n"
    return head % (content_type, len(body)) + body


_ANSWERS = {
    b"chat": _response(_CHAT, b"application/json"),
    b"stream": _response(_sse(3), b"text/event-stream"),
    b"models": _response(_MODELS, b"application/json"),
}


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)
_SLOW_USAGE = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}, "model": MODEL}
_STREAM_END = b"data: " + json.dumps(_SLOW_USAGE).encode() + b"\n\n" + b"data: [DONE]\n\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _delta(sent: float) -> bytes:
    event = {"choices": [{"index": 0, "delta": {"content": f"{sent:.6f} "}}], "model": MODEL}
    return b"data: " + json.dumps(event).encode() + b"\n\n"


class FakeUpstream(asyncio.Protocol):
    slow_chunks = 0  # 0: streams are answered at once
    interval = 1.0

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.buffer = b""
        self.timers: list[asyncio.TimerHandle] = []

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in self.timers:
            timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = _content_length(self.buffer[:head_end])
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            request, self.buffer = self.buffer[:end], self.buffer[end:]
            route = _route(request)
            if route == b"stream" and self.slow_chunks:
                self._stream_slowly()
            else:
                self.transport.write(_ANSWERS[route])

    def _stream_slowly(self) -> None:
        """One delta now and one every `interval` seconds, on the loop's clock, so
        the spacing does not drift with the time each send takes."""
        loop = asyncio.get_running_loop()
        self.transport.write(_STREAM_HEAD)
        start = loop.time()
        self.timers = [
            loop.call_at(start + index * self.interval, self._send, index == self.slow_chunks - 1)
            for index in range(self.slow_chunks)
        ]

    def _send(self, last: bool) -> None:
        if self.transport.is_closing():
            return
        data = _delta(time.time()) + (_STREAM_END if last else b"")
        self.transport.write(_chunk(data) + (b"0\r\n\r\n" if last else b""))


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _route(request: bytes) -> bytes:
    if request.startswith(b"GET"):
        return b"models"
    if b'"stream": true' in request or b'"stream":true' in request:
        return b"stream"
    return b"chat"


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeUpstream, "127.0.0.1", port, backlog=1024)
    print(f"Fake upstream listening on http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("chunks", type=int, nargs="?", default=0,
                        help="a stream's content chunks (default 3)")  # fmt: skip
    parser.add_argument(
        "--slow-chunks", type=int, default=0, metavar="N",
        help="answer streams with N deltas, one every --interval seconds",
    )  # fmt: skip
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS")
    arguments = parser.parse_args()
    if arguments.chunks:
        _ANSWERS[b"stream"] = _response(_sse(arguments.chunks), b"text/event-stream")
    FakeUpstream.slow_chunks, FakeUpstream.interval = arguments.slow_chunks, arguments.interval
    uvloop.run(serve(arguments.port))
