"""OpenAI API response shapes, as the public API reference documents them.

Values are our own; field names, nesting and event framing follow the docs.
"""

# ruff: noqa: E501  (an SSE event is one line on the wire; kept as sent)

from __future__ import annotations

# https://platform.openai.com/docs/api-reference/chat/object
CHAT_COMPLETION = {
    "id": "chatcmpl-rec01",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4.1-2025-04-14",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 19, "completion_tokens": 2, "total_tokens": 21},
}

# https://platform.openai.com/docs/api-reference/chat-streaming/streaming
# With stream_options.include_usage every chunk carries "usage": null, and one
# extra chunk with empty choices and the totals comes before [DONE].
CHAT_STREAM = """\
data: {"id":"chatcmpl-rec02","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-rec02","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"content":"Par"},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-rec02","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"content":"is."},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-rec02","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}

data: {"id":"chatcmpl-rec02","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":2,"total_tokens":21}}

data: [DONE]

"""

# https://platform.openai.com/docs/api-reference/embeddings/create
# Rows listed out of order on purpose: `index` is what ties a vector to its input.
EMBEDDINGS = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": 1, "embedding": [0.5, -0.25, 0.125]},
        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, -0.3]},
    ],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 8, "total_tokens": 8},
}

# https://platform.openai.com/docs/api-reference/models/list
MODELS = {
    "object": "list",
    "data": [
        {"id": "gpt-4.1", "object": "model", "created": 1744316542, "owned_by": "system"},
        {"id": "o3-mini", "object": "model", "created": 1737146383, "owned_by": "system"},
        {
            "id": "text-embedding-3-small",
            "object": "model",
            "created": 1705948997,
            "owned_by": "system",
        },
        {
            "id": "whisper-1",
            "object": "model",
            "created": 1677532384,
            "owned_by": "openai-internal",
        },
        {"id": "dall-e-3", "object": "model", "created": 1698785189, "owned_by": "system"},
    ],
}
