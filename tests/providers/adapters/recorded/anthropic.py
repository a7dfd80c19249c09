"""Anthropic API response shapes, as its public documentation shows them.

Values are our own; field names, nesting and SSE framing follow the docs.
"""

# ruff: noqa: E501  (an SSE event is one line on the wire; kept as sent)

from __future__ import annotations

# https://docs.anthropic.com/en/api/messages (response example)
MESSAGE = {
    "id": "msg_rec01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [
        {"type": "text", "text": "Paris is the capital"},
        {"type": "text", "text": " of France."},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 21, "output_tokens": 7},
}

# https://docs.anthropic.com/en/docs/build-with-claude/streaming ("Basic
# streaming request"): every event has an `event:` line naming its type and a
# `data:` line whose JSON repeats that type.
STREAM = """\
event: message_start
data: {"type":"message_start","message":{"id":"msg_rec02","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-20250514","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":21,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type":"ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Paris"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" it is."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":4}}

event: message_stop
data: {"type":"message_stop"}

"""

# The stream up to its last text delta, for an error to interrupt.
STREAM_START = STREAM.split("event: content_block_stop")[0]


# Same page, "Error events": an error may arrive after the stream has begun,
# e.g. `overloaded_error` where a non-streaming call would get HTTP 529.
def error_event(error_type: str, message: str) -> str:
    payload = f'{{"type":"error","error":{{"type":"{error_type}","message":"{message}"}}}}'
    return f"event: error\ndata: {payload}\n\n"


# https://docs.anthropic.com/en/api/models-list (response example)
MODELS = {
    "data": [
        {
            "id": "claude-sonnet-4-20250514",
            "type": "model",
            "display_name": "Claude Sonnet 4",
            "created_at": "2025-05-22T00:00:00Z",
            "capabilities": {"image_input": {"supported": True}},
        },
        {
            "id": "claude-3-5-haiku-20241022",
            "type": "model",
            "display_name": "Claude Haiku 3.5",
            "created_at": "2024-10-22T00:00:00Z",
        },
    ],
    "has_more": False,
    "first_id": "claude-sonnet-4-20250514",
    "last_id": "claude-3-5-haiku-20241022",
}
