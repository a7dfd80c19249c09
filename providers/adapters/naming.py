"""A model's kind guessed from its name, for servers whose listing says nothing more.

A plain OpenAI-style `/v1/models` (llama.cpp, vLLM, LocalAI, older LM Studio)
gives only ids. Embedding models are named for what they are by convention:
`text-embedding-3-small`, `nomic-embed-text`, `bge-m3`, `multilingual-e5-large`,
`all-MiniLM-L6-v2`. The name is split into words (on `-`, `_`, `.`, `/`, `:`,
`@`), so `e5` matches `multilingual-e5-large` but not `qwen2.5`. An operator
who knows better runs the admin's one-off probe, or sets the kind by hand.
"""

from __future__ import annotations

import re

_WORDS = re.compile(r"[-_./:@\s]+")
EMBEDDING_WORDS = frozenset({"embed", "embedding", "embeddings", "bge", "e5", "minilm"})


def kind_from_name(model_id: str) -> str:
    """`embeddings` when the id names an embedding model, else `llm`."""
    words = _WORDS.split(model_id.lower())
    if any(word in EMBEDDING_WORDS or word.startswith("embed") for word in words):
        return "embeddings"
    return "llm"


def capabilities_for(kind: str) -> tuple[str, ...]:
    return ("embed",) if kind == "embeddings" else ("chat", "chatStream")
