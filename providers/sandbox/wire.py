"""The raw ASGI plumbing the sandbox needs: read a body, send JSON, send SSE.

No framework sits here on purpose: the sandbox is also the benchmark's
upstream, so each answer is a couple of `send` calls with pre-encoded headers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from providers.sandbox.errors import ApiError

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY_BYTES = 8 * 1024 * 1024
JSON_TYPE = (b"content-type", b"application/json")
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
DONE = b"data: [DONE]\n\n"


async def read_body(receive: Receive) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "The request body is too large for the sandbox.")
    return body


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        raise ApiError(400, "The request body is not valid JSON.") from None


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
    content_type: tuple[bytes, bytes] = JSON_TYPE,
) -> None:
    headers = [content_type, (b"content-length", str(len(body)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send, status: int, payload: Any, extra_headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    await send_bytes(send, status, encode(payload), extra_headers)


async def send_error(send: Send, error: ApiError, extra_headers=()) -> None:
    await send_json(send, error.status, error.body(), extra_headers)


async def send_sse(send: Send, events: list[bytes], *, break_after: int | None = None) -> None:
    """Send `events` as one SSE body ending in `[DONE]`, or drop it after N.

    Returning before the last body message is how an ASGI app drops a
    connection: uvicorn then closes the socket without the chunked body's
    terminator, which the client sees as a connection broken mid-answer.
    """
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    if break_after is not None:
        events = events[:break_after]
    for event in events:
        await send({"type": "http.response.body", "body": event, "more_body": True})
    if break_after is None:
        await send({"type": "http.response.body", "body": DONE})


def sse_event(payload: Any) -> bytes:
    return b"data: " + encode(payload) + b"\n\n"


def header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""
