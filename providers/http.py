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


class _Pool:
    """Holds the shared client between the lifespan's startup and shutdown."""

    client: httpx.AsyncClient | None = None


_pool = _Pool()


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
    if _pool.client is None:
        _pool.client = build_client()


async def close_shared_client() -> None:
    client, _pool.client = _pool.client, None
    if client is not None:
        await client.aclose()


def shared_client() -> httpx.AsyncClient:
    if _pool.client is None:
        raise RuntimeError("The shared upstream client is opened by the ASGI lifespan.")
    return _pool.client


@asynccontextmanager
async def upstream_client() -> AsyncIterator[httpx.AsyncClient]:
    """The shared client inside a server process, else a short-lived one."""
    if _pool.client is not None:
        yield _pool.client
        return
    async with build_client() as client:
        yield client
