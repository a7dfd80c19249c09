"""A lean OpenAI-compatible upstream for benchmarks: answers in microseconds.

The sandbox upstream (about 6,000 calls/s here) is realistic but too slow to
measure a gateway that should add little; this answers the same shapes from
precomputed bytes on a bare asyncio protocol, so the figures measure the
gateway, not the upstream. Run: python bench/fake_upstream.py PORT [CHUNKS]
(a stream's content chunks, default 3; `make bench-peer` uses 20).
"""

from __future__ import annotations

import asyncio
import json
import sys

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


class FakeUpstream(asyncio.Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.buffer = b""

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
            self.transport.write(_ANSWERS[_route(request)])


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

    if len(sys.argv) > 2:
        _ANSWERS[b"stream"] = _response(_sse(int(sys.argv[2])), b"text/event-stream")
    uvloop.run(serve(int(sys.argv[1])))
