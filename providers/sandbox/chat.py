"""Deterministic chat answers: the reply echoes the last user message.

A call's reply is "Sandbox reply to: <last user text>", its token counts are
word counts, and a stream sends the reply one word per chunk, then a chunk with
the finish reason and, when asked, a usage chunk with no choices. Equal request
bodies get equal answers, ids included, so tests can compare them whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from providers.sandbox.catalogue import MODELS
from providers.sandbox.errors import bad_request, model_not_found

_ROLES = {"system", "user", "assistant", "tool", "developer"}


@dataclass(frozen=True)
class ChatCall:
    """A validated chat request, reduced to what shapes the answer."""

    id: str
    model: str
    prompt_tokens: int
    words: tuple[str, ...]
    finish_reason: str
    stream: bool
    include_usage: bool

    def usage(self) -> dict[str, int]:
        completion = len(self.words)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def parse_chat(data: Any, raw: bytes) -> ChatCall:
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    model = _model(data.get("model"))
    texts = _message_texts(data.get("messages"))
    words = _reply(texts).split(" ")
    finish = "stop"
    limit = data.get("max_tokens")
    if limit is not None and limit != -1:  # LM Studio takes -1 as "no limit"
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise bad_request("max_tokens must be a positive integer or -1.", "max_tokens")
        if limit < len(words):
            words, finish = words[:limit], "length"
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise bad_request("stream must be a boolean.", "stream")
    options = data.get("stream_options") or {}
    if not isinstance(options, dict):
        raise bad_request("stream_options must be an object.", "stream_options")
    return ChatCall(
        id="chatcmpl-" + hashlib.blake2b(raw, digest_size=10).hexdigest(),
        model=model,
        prompt_tokens=sum(len(text.split()) for _role, text in texts),
        words=tuple(words),
        finish_reason=finish,
        stream=stream,
        include_usage=options.get("include_usage") is True,
    )


def chat_completion(call: ChatCall, created: int) -> dict[str, Any]:
    return {
        "id": call.id,
        "object": "chat.completion",
        "created": created,
        "model": call.model,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": call.finish_reason,
                "message": {"role": "assistant", "content": " ".join(call.words)},
            }
        ],
        "usage": call.usage(),
        "system_fingerprint": call.model,
    }


def stream_chunks(call: ChatCall, created: int, *, usage: bool = True) -> list[dict[str, Any]]:
    """Every chunk of the stream, `[DONE]` excepted; the usage chunk only when
    asked for and `usage` (a server that ignores the option sends none)."""
    deltas: list[dict[str, Any]] = [
        {"role": "assistant", "content": word} if i == 0 else {"content": " " + word}
        for i, word in enumerate(call.words)
    ]
    chunks = [_chunk(call, created, [_choice(delta, None)]) for delta in deltas]
    chunks.append(_chunk(call, created, [_choice({}, call.finish_reason)]))
    if call.include_usage and usage:
        chunks.append(_chunk(call, created, [], usage=call.usage()))
    return chunks


def _chunk(call: ChatCall, created: int, choices: list, **extra: Any) -> dict[str, Any]:
    return {
        "id": call.id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": call.model,
        "system_fingerprint": call.model,
        "choices": choices,
        **extra,
    }


def _choice(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _model(model: Any) -> str:
    if not isinstance(model, str) or not model:
        raise bad_request("model must be a non-empty string.", "model")
    if model not in MODELS:
        raise model_not_found(model)
    if not MODELS[model].can_chat:
        raise bad_request(f'Model "{model}" is an embeddings model and cannot chat.', "model")
    return model


def _message_texts(messages: Any) -> list[tuple[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages must be a non-empty array.", "messages")
    texts = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise bad_request("Each message needs a known role.", "messages")
        texts.append((message["role"], _text(message.get("content"))))
    return texts


def _text(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    raise bad_request("Message content must be text or an array of parts.", "messages")


def _reply(texts: list[tuple[str, str]]) -> str:
    # Collapsing whitespace keeps the reply a sequence of single-space words,
    # which is what lets a stream's chunks join back into the exact reply.
    last_user = next((text for role, text in reversed(texts) if role == "user"), "")
    return "Sandbox reply to: " + (" ".join(last_user.split()) or "(nothing)")
