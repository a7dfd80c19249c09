"""Token counts for an answer whose upstream reported none, without a tokenizer.

Some servers ignore `stream_options.include_usage` (llama.cpp's Python server
does) and end a stream with no usage at all. Recording 0 tokens would let a
client stream past its budget, so the gateway counts for itself:

    tokens(text)   = ceil(characters / 4)                 (at least 1 for non-empty text)
    input tokens   = sum over messages of tokens(content) + 4   (role and template markers)
    output tokens  = tokens(the streamed answer)

Four characters a token is the usual rule of thumb for English with BPE
tokenizers (OpenAI's, Llama's); code and most other languages run denser, so
the estimate errs low there. No tokenizer ships with the gateway: models differ,
and one would cost more than the call's bookkeeping. An estimated usage says so
(`Usage.estimated`): in the answer's `usage.estimated`, on the call record
(`usage_estimated`), and it counts against budgets like any other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from providers.types import ChatMessage, Usage

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_prompt_tokens(messages: Iterable[ChatMessage]) -> int:
    return sum(estimate_tokens(m.content) + TOKENS_PER_MESSAGE for m in messages)


def estimated_usage(messages: Iterable[ChatMessage], answer: str) -> Usage:
    return Usage(estimate_prompt_tokens(messages), estimate_tokens(answer), estimated=True)
