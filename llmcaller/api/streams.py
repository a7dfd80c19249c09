"""What every door's stream does around its encoded lines, whatever their framing.

`serve_stream` sends a door's lines (v1 SSE events, OpenAI chunks, Responses
events) as they come and keeps the stream's slot while it runs, so a stream
longer than `LLMCALLER_STREAM_SLOT_TTL` still counts against the client's cap.
The door's encoder commits the call record before the line that says the answer
is complete, and turns a failed commit into its error line; this records a
failed stream before `[DONE]` and a client gone mid-stream afterwards, without
letting a failed commit cut the stream short (docs/STREAMS.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from llmcaller.calls import CallLog
from llmcaller.sse import DONE
from llmcaller.stream_slots import StreamSlot


async def serve_stream(
    lines: AsyncIterator[bytes], *, events: AsyncIterator[object], call: CallLog, slot: StreamSlot
) -> AsyncIterator[bytes]:
    """`lines`, produced from `events`, as a streaming response's body."""
    try:
        async with aclosing(events), aclosing(lines):
            async for line in lines:
                slot.keep()  # an open stream keeps its slot, however long it runs
                if line == DONE:
                    await call.end_stream_quietly()  # a failed stream's record, before the end
                yield line
    finally:
        slot.release()
        await call.end_stream_quietly()  # a client gone mid-stream: recorded as such
