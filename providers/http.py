"""The shared pooled `httpx.AsyncClient`: the only process-wide object.

The ASGI lifespan opens it at startup and closes it at shutdown
(`llmcaller.asgi`). Code outside a server process (management commands, admin
actions run in a worker thread) opens a short-lived one with `upstream_client()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from django.conf import settings

_shared: httpx.AsyncClient | None = None


def build_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=settings.UPSTREAM_CONNECT_TIMEOUT),
        limits=httpx.Limits(
            max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
            max_keepalive_connections=settings.UPSTREAM_MAX_KEEPALIVE,
        ),
        follow_redirects=False,
        trust_env=False,  # proxies from the environment must not see provider traffic
    )


async def open_shared_client() -> None:
    global _shared
    if _shared is None:
        _shared = build_client()


async def close_shared_client() -> None:
    global _shared
    if _shared is not None:
        await _shared.aclose()
        _shared = None


def shared_client() -> httpx.AsyncClient:
    if _shared is None:
        raise RuntimeError("The shared upstream client is opened by the ASGI lifespan.")
    return _shared


@asynccontextmanager
async def upstream_client() -> AsyncIterator[httpx.AsyncClient]:
    """The shared client inside a server process, else a short-lived one."""
    if _shared is not None:
        yield _shared
        return
    async with build_client() as client:
        yield client
