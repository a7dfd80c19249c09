"""The shared pooled `httpx.AsyncClient`: the only process-wide object.

The ASGI lifespan opens it at startup and closes it at shutdown
(`llmcaller.asgi`). Code outside a server process (management commands, admin
actions run in a worker thread) opens a short-lived one with `upstream_client()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache

import aiohttp
import httpx
from django.conf import settings
from httpx_aiohttp import AiohttpTransport


class _Pool:
    """Holds the shared client between the lifespan's startup and shutdown."""

    client: httpx.AsyncClient | None = None


_pool = _Pool()


class _AiohttpTransport(AiohttpTransport):
    """Corrects two of httpx-aiohttp 0.2's exception translations, which turn a
    refused connection and a dropped one into ConnectTimeout: a provider that is
    down must read as unreachable, not as slow."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            cause = exc.__cause__
            if isinstance(cause, aiohttp.ClientConnectorError):
                raise httpx.ConnectError(str(cause), request=request) from cause
            if isinstance(cause, aiohttp.ServerDisconnectedError):
                raise httpx.RemoteProtocolError(str(cause), request=request) from cause
            raise


@lru_cache(maxsize=1024)
def parsed_url(url: str) -> httpx.URL:
    """`url` parsed once: httpx parses a URL string in pure Python on every request,
    about a quarter of its cost per call, and a provider has only a few URLs."""
    return httpx.URL(url)


def build_client() -> httpx.AsyncClient:
    """httpx's API on an aiohttp connection pool: measured in DESIGN.md at about
    2.5x the calls/s of httpx's own pool, with a millisecond less added latency."""
    limits = httpx.Limits(
        max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
        max_keepalive_connections=settings.UPSTREAM_MAX_KEEPALIVE,
    )
    return httpx.AsyncClient(
        transport=_AiohttpTransport(limits=limits, trust_env=False),
        timeout=httpx.Timeout(30.0, connect=settings.UPSTREAM_CONNECT_TIMEOUT),
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
