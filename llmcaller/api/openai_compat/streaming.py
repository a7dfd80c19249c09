"""Server-sent events in OpenAI's framing: `data: {chunk}` lines, then `[DONE]`.

`chat_chunks` turns a routed stream into `chat.completion.chunk` objects: the
first carries the role, tool-call pieces pass through as OpenAI sends them,
the completion becomes a chunk with the finish reason and, when the caller set
`stream_options.include_usage`, a last chunk with `choices: []` and the usage.
A failure after the stream began becomes an `{"error": …}` chunk, then
`[DONE]`; the call log hears every piece, as on the v1 stream. As there, the
call record is committed before the finish chunk, and a failed commit sends the
error chunk (`temporary`: retry) in its place (docs/STREAMS.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from llmcaller.api.openai_compat.errors import openai_error
from llmcaller.api.openai_compat.translate import (
    chunk_json,
    delta_choice,
    finish_choice,
    usage_json,
)
from llmcaller.calls import CallLog
from llmcaller.sse import DONE, frame, strip_control
from providers.types import ChatDelta
from routing.types import StreamCompleted


@dataclass(frozen=True)
class ChunkHeader:
    """What every chunk of one stream repeats."""

    id: str
    created: int
    model: str
    include_usage: bool


async def chat_chunks(
    first: object, events: AsyncIterator[object], *, header: ChunkHeader, call: CallLog
) -> AsyncIterator[bytes]:
    ids = {"id": header.id, "created": header.created, "model": header.model}
    event: object | None = first
    sent_role = False
    try:
        while event is not None:
            if isinstance(event, ChatDelta):
                text = strip_control(event.content)
                call.delta(text)
                yield frame(chunk_json([delta_choice(event, text, first=not sent_role)], **ids))
                sent_role = True
            elif isinstance(event, StreamCompleted):
                call.completed(event)
                await call.end_stream()  # no finish chunk before the call's record
                result = event.routed.result
                yield frame(chunk_json([finish_choice(result.finish_reason)], **ids))
                if header.include_usage:
                    yield frame(chunk_json([], usage=usage_json(result.usage), **ids))
            event = await anext(events, None)
    except Exception as exc:  # every failure becomes the error chunk; cancellation is not one
        call.failed(exc)
        yield frame({"error": openai_error(exc)})
    yield DONE  # `serve_stream` records a failed stream before it sends this
