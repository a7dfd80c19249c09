"""The pooled upstream client, `UpstreamClient`: the only process-wide object.

The ASGI lifespan opens the shared one at startup and closes it at shutdown
(`llmcaller.asgi`). Code outside a server process (management commands, admin
actions run in a worker thread) opens a short-lived one with `upstream_client()`.

It is aiohttp's client, used directly: httpx's API over the same aiohttp pool
cost about 0.14 ms of CPU a call more (140 against 280 µs for a small chat
answer on loopback, docs/BENCHMARKS.md). Adapters see only what they need of
it: a whole answer (`UpstreamAnswer`), an open stream read line by line
(`UpstreamStream`), and four kinds of failure (`TransportError`), each mapped to
`providers.errors` in one place (`providers.adapters.base`).
"""

from __future__ import annotations

import asyncio
import codecs
import json
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import aiohttp
import certifi
from django.conf import settings
from yarl import URL


class TransportError(Exception):
    """The exchange failed below HTTP. The message is aiohttp's, for logs of this
    process only: adapters raise their own words instead."""


class TransportTimeout(TransportError):
    """No connection, or no bytes, within the timeout."""


class TransportUnreachable(TransportError):
    """The connection was refused, or the name or certificate did not resolve."""


class TransportBadURL(TransportError):
    """The provider's URL cannot be requested (not http(s), malformed)."""


class TransportBroken(TransportError):
    """The connection closed before a complete answer, or spoke broken HTTP."""


@dataclass(frozen=True, slots=True)
class UpstreamAnswer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class UpstreamStream:
    """An answer whose body is read as it arrives; `close` gives the connection back."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    async def lines(self) -> AsyncIterator[str]:
        """The body's lines as text, without their ends (\\n or \\r\\n)."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        with _translated():
            async for chunk in self._response.content.iter_any():
                *complete, pending = (pending + decoder.decode(chunk)).split("\n")
                for line in complete:
                    yield line.removesuffix("\r")
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending.removesuffix("\r")

    def close(self) -> None:
        self._response.release()


class UpstreamClient:
    """A pool of keep-alive connections to the providers. Its aiohttp session is
    made at the first request, inside the event loop that will use it."""

    def __init__(self, *, max_connections: int, connect_timeout: float) -> None:
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def request(
        self, method: str, url: str, *, payload: Any = None, headers: Mapping[str, str],
        timeout: float,
    ) -> UpstreamAnswer:  # fmt: skip
        with _translated():
            async with self._send(method, url, payload, headers, timeout) as response:
                return UpstreamAnswer(response.status, response.headers, await response.read())

    async def open_stream(
        self, method: str, url: str, *, payload: Any = None, headers: Mapping[str, str],
        timeout: float,
    ) -> UpstreamStream:  # fmt: skip
        with _translated():
            return UpstreamStream(await self._send(method, url, payload, headers, timeout))

    def _send(self, method: str, url: str, payload: Any, headers: Mapping[str, str],
              timeout: float):  # fmt: skip
        if payload is not None:
            headers = {**headers, "Content-Type": "application/json"}
            payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return self._pool().request(
            method, _parsed(url), data=payload, headers=headers, allow_redirects=False,
            timeout=self._timeout(timeout),
        )  # fmt: skip

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, limit_per_host=0, ssl=_tls_context()
            )
            # Proxies from the environment must not see provider traffic.
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        # As httpx had it: `seconds` bounds the wait for a pooled connection and
        # each wait for bytes (a stream may run longer in all), not the whole call.
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(
                total=None, connect=seconds, sock_connect=min(self.connect_timeout, seconds),
                sock_read=seconds,
            )  # fmt: skip
        return timeout

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> UpstreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _translated:
    """aiohttp's failures as the four `TransportError`s."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, _tb: object) -> bool:
        if exc is None or isinstance(exc, TransportError):
            return False
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            raise TransportTimeout(str(exc) or "timed out") from exc
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise TransportUnreachable(str(exc)) from exc
        if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
            raise TransportBadURL(str(exc)) from exc
        if isinstance(exc, (aiohttp.ClientError, ConnectionError)):
            raise TransportBroken(str(exc) or type(exc).__name__) from exc
        return False


def _parsed(url: str) -> URL:
    try:
        return _parse(url)
    except ValueError as exc:  # yarl's word for a malformed URL (a bad port, say)
        raise TransportBadURL(str(exc)) from exc


@lru_cache(maxsize=1024)
def _parse(url: str) -> URL:
    """`url` parsed once: a provider has only a few URLs."""
    return URL(url)


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # certifi's roots, as httpx used: the providers' certificates verify as before.
    return ssl.create_default_context(cafile=certifi.where())


class _Pool:
    """Holds the shared client between the lifespan's startup and shutdown."""

    client: UpstreamClient | None = None


_pool = _Pool()


def build_client() -> UpstreamClient:
    return UpstreamClient(
        max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
        connect_timeout=settings.UPSTREAM_CONNECT_TIMEOUT,
    )


async def open_shared_client() -> None:
    if _pool.client is None:
        _pool.client = build_client()


async def close_shared_client() -> None:
    client, _pool.client = _pool.client, None
    if client is not None:
        await client.aclose()


def shared_client() -> UpstreamClient:
    if _pool.client is None:
        raise RuntimeError("The shared upstream client is opened by the ASGI lifespan.")
    return _pool.client


@asynccontextmanager
async def upstream_client() -> AsyncIterator[UpstreamClient]:
    """The shared client inside a server process, else a short-lived one."""
    if _pool.client is not None:
        yield _pool.client
        return
    async with build_client() as client:
        yield client
