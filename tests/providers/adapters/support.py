"""Building adapters against played upstreams, and the leak check every test shares.

Each adapter talks over loopback HTTP, through the gateway's own upstream
client, to a server whose handler (httpx's request and response types) plays
the upstream (`playing_upstream`); nothing leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from providers.adapters.base import ProviderAdapter
from providers.http import UpstreamClient, build_client
from providers.types import ChatMessage, ChatRequest, ProviderConfig
from tests.providers.adapters.playing_upstream import Handler, playing_upstream

SENTINEL = "sk-SENTINEL-do-not-leak"
# Text only an upstream body carries: it must never reach an error we raise.
UPSTREAM_SECRET = "UPSTREAM-BODY-internal-trace-7f3a"

# Clients the adapters of the running test use, closed after it (conftest).
open_clients: list[UpstreamClient] = []


def build(
    adapter_class: type[ProviderAdapter],
    handler: Handler,
    *,
    kind: str,
    base_url: str = "https://upstream.test",
    credential: str = SENTINEL,
    timeout: float = 5.0,
) -> ProviderAdapter:
    """An adapter whose upstream `handler` plays, as if it were at `base_url`."""
    played = playing_upstream().base_url(handler, base_url)
    return on_base_url(adapter_class, played, kind=kind, credential=credential, timeout=timeout)


def on_base_url(
    adapter_class: type[ProviderAdapter],
    base_url: str,
    *,
    kind: str,
    credential: str = SENTINEL,
    timeout: float = 5.0,
) -> ProviderAdapter:
    config = ProviderConfig(
        key=f"{kind}-main", kind=kind, base_url=base_url, timeout=timeout, credential=credential
    )
    client = build_client()
    open_clients.append(client)
    return adapter_class(config, client)


def chat_request(
    *messages: tuple[str, str],
    model: str = "test-model",
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> ChatRequest:
    pairs = messages or (("user", "Hello"),)
    return ChatRequest(
        model=model,
        messages=tuple(ChatMessage(role=role, content=content) for role, content in pairs),
        temperature=temperature,
        max_tokens=max_tokens,
    )


def body(request: httpx.Request) -> dict:
    return json.loads(request.content)


def sse(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})


def assert_no_leak(exc: BaseException) -> None:
    """Neither our credential nor upstream's own words may be in what we raise."""
    for text in (str(exc), repr(exc), getattr(exc, "detail", ""), *map(str, exc.args)):
        assert SENTINEL not in text
        assert UPSTREAM_SECRET not in text


async def collect(events: AsyncIterator) -> list:
    return [event async for event in events]


class BrokenStream(httpx.AsyncByteStream):
    """A body that sends its first bytes, then loses the connection."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError(f"connection reset while sending {SENTINEL}")
