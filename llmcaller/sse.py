"""Server-sent events for `/mcp/chatStream`: stream events in, `data:` lines out.

Each event is one `data: {compact JSON}\\n\\n` line: deltas, then the completion,
then `data: [DONE]`. Control characters other than newline and tab are stripped
from deltas; a delta longer than `LLMCALLER_STREAM_CHUNK_SIZE` becomes several
events (never cut); a payload that is not text is dropped and logged. A failure
after the stream has begun becomes the error event, then `[DONE]`.

The completion event is sent only once `before_completion` (the call record's
commit) has returned: if it raises, the stream ends with the error event
instead, then `[DONE]`, so a completion always means the call is on record.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from django.conf import settings

from llmcaller.errors import error_body
from providers.types import ChatDelta
from routing.types import StreamCompleted

logger = logging.getLogger("llmcaller.sse")

DONE = b"data: [DONE]\n\n"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class StreamObserver(Protocol):
    def delta(self, text: str) -> None: ...
    def completed(self, event: StreamCompleted) -> None: ...
    def failed(self, exc: BaseException) -> None: ...


def frame(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + text.encode() + b"\n\n"


def strip_control(text: str) -> str:
    """`text` without control characters other than newline and tab."""
    return _CONTROL.sub("", text)


def delta_frames(text: str, chunk_size: int) -> list[bytes]:
    clean = strip_control(text)
    return [
        frame({"type": "delta", "delta": {"content": clean[start : start + chunk_size]}})
        for start in range(0, len(clean), chunk_size)
    ]


async def encode_stream(
    first: object,
    events: AsyncIterator[object],
    *,
    trace_id: str,
    completion: Callable[[StreamCompleted], dict[str, Any]],
    observer: StreamObserver,
    before_completion: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """`first`, then the rest of `events`, as SSE lines ending with `[DONE]`."""
    chunk_size = settings.LLMCALLER_STREAM_CHUNK_SIZE
    event: object | None = first
    try:
        while event is not None:
            if isinstance(event, ChatDelta) and isinstance(event.content, str):
                observer.delta(event.content)
                for line in delta_frames(event.content, chunk_size):
                    yield line
            elif isinstance(event, StreamCompleted):
                observer.completed(event)
                payload = completion(event)
                if before_completion is not None:
                    await before_completion()
                yield frame({"type": "completion", "payload": payload, "traceId": trace_id})
            else:
                logger.warning(
                    "Dropped a stream payload that is not text: %s", type(event).__name__
                )
            event = await anext(events, None)
    except Exception as exc:  # every failure becomes the error event; cancellation is not one
        observer.failed(exc)
        yield frame(error_body(exc, trace_id))
    yield DONE
