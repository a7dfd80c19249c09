"""An optional response cache for requests whose answer cannot vary.

Only two kinds qualify: embeddings (deterministic) and chat at temperature 0
without tools or a response format.
The key is a sha256 over the request's canonical JSON (capability, messages or
inputs, pins, task, maxTokens, dimensions) and the configuration hash, so a
configuration change never serves an answer another route produced. Each key
sits under the client's own namespace, so a hit never crosses clients, and each
client sets its own time to live (0 turns caching off for it). Values go through
Django's cache "responses", apart from the control state so that neither can
evict the other: per process with the local-memory default, shared with Redis.
A cache that does not answer is a miss, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import caches

from providers.models import Capability
from routing.types import RouteRequest

PREFIX = "routing:response"
_MISSING = object()


def response_cache_key(
    *,
    client: str,
    request: RouteRequest,
    config_hash: str,
    temperature: float | None = None,
    dimensions: int | None = None,
) -> str | None:
    """The cache key for this client's request, or None when it must not be cached."""
    if request.capability != Capability.EMBED and temperature != 0:
        return None  # sampling (or the upstream's default temperature) varies the answer
    if request.needs:
        return None  # tools and response formats are not part of the key
    payload = {
        "capability": request.capability,
        "messages": [[m.role, m.content] for m in request.messages],
        "inputs": list(request.inputs),
        "provider": request.provider, "model": request.model, "task": request.task,
        "max_tokens": request.max_tokens, "dimensions": dimensions,
        "config": config_hash,
    }  # fmt: skip
    return f"{PREFIX}:{_digest(client)}:{_digest(payload)}"


def get_cached_response(key: str | None) -> Any | None:
    if key is None:
        return None
    try:
        value = caches["responses"].get(key, _MISSING)
    except ConnectionError:  # the cache is down: call upstream instead
        return None
    return None if value is _MISSING else value


def store_response(key: str | None, value: Any, *, ttl_seconds: int) -> None:
    if key is not None and ttl_seconds > 0:
        try:
            caches["responses"].set(key, value, timeout=ttl_seconds)
        except ConnectionError:
            pass  # the answer was served; it is just not kept


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
