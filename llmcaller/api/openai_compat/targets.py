"""The `model` a caller named, read against the active routing snapshot."""

from __future__ import annotations

from llmcaller.errors import BadRequest
from routing.names import ModelTarget, UnknownTask, resolve_model_name
from routing.snapshot import acurrent_snapshot


async def resolve_target(name: str) -> ModelTarget:
    try:
        return resolve_model_name(name, await acurrent_snapshot())
    except UnknownTask as exc:
        raise BadRequest(f"model: {exc}", param="model") from None
