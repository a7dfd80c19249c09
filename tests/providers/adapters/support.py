"""Building adapters against fake upstreams, and the leak check every test shares.

Each adapter talks to an `httpx.MockTransport` whose handler plays the
upstream; nothing leaves the process.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx

from providers.adapters.base import ProviderAdapter
from providers.types import ChatMessage, ChatRequest, ProviderConfig

SENTINEL = "sk-SENTINEL-do-not-leak"
# Text only an upstream body carries: it must never reach an error we raise.
UPSTREAM_SECRET = "UPSTREAM-BODY-internal-trace-7f3a"

Handler = Callable[[httpx.Request], httpx.Response]


def build(
    adapter_class: type[ProviderAdapter],
    handler: Handler,
    *,
    kind: str,
    base_url: str = "https://upstream.test",
    credential: str = SENTINEL,
) -> ProviderAdapter:
    config = ProviderConfig(
        key=f"{kind}-main", kind=kind, base_url=base_url, timeout=5.0, credential=credential
    )
    return adapter_class(config, httpx.AsyncClient(transport=httpx.MockTransport(handler)))


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
