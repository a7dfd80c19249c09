"""Deterministic embeddings: each vector is derived from a hash of its input.

The same text always gets the same unit-length vector, of `dimensions`
components (8 unless asked), so tests can compare vectors exactly and a cache
or a fallback can be checked for having kept the right one.
"""

from __future__ import annotations

import hashlib
import math
import struct
from typing import Any

from providers.sandbox.catalogue import MODELS
from providers.sandbox.errors import bad_request, model_not_found

DEFAULT_DIMENSIONS = 8
MAX_DIMENSIONS = 4096


def embed_vector(text: str, dimensions: int) -> list[float]:
    # Two hash bytes per component, spread over [-1, 1], then scaled to unit length.
    digest = hashlib.shake_256(text.encode()).digest(2 * dimensions)
    raw = [n / 32767.5 - 1.0 for n in struct.unpack(f">{dimensions}H", digest)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [round(x / norm, 6) for x in raw]


def embeddings_answer(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    model = _model(data.get("model"))
    inputs = _inputs(data.get("input"))
    dimensions = _dimensions(data.get("dimensions", DEFAULT_DIMENSIONS))
    tokens = sum(len(text.split()) for text in inputs)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "embedding": embed_vector(text, dimensions), "index": i}
            for i, text in enumerate(inputs)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _model(model: Any) -> str:
    if not isinstance(model, str) or not model:
        raise bad_request("model must be a non-empty string.", "model")
    if model not in MODELS:
        raise model_not_found(model)
    if MODELS[model].type != "embeddings":
        raise bad_request(f'Model "{model}" is not an embeddings model.', "model")
    return model


def _inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(text, str) for text in value):
        return value
    raise bad_request("input must be a string or a non-empty array of strings.", "input")


def _dimensions(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DIMENSIONS:
        return value
    raise bad_request(f"dimensions must be an integer from 1 to {MAX_DIMENSIONS}.", "dimensions")
