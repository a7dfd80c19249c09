"""Helpers for driving the gateway: request bodies, an upstream of our own."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, Implementation

from tests.gateway import serving

CHAT_MODEL = "qwen2.5-7b-instruct"
EMBED_MODEL = "text-embedding-nomic-embed-text-v1.5"


def envelope(**fields: Any) -> dict[str, Any]:
    return {"requestId": "req-1", "callerTool": "tests", **fields}


def chat_body(text: str = "hello there", **fields: Any) -> dict[str, Any]:
    return envelope(messages=[{"role": "user", "content": text}], **fields)


class SlowStreamUpstream:
    """An OpenAI-style upstream whose stream never ends on its own: one chunk
    every `interval` s until its client hangs up, which it counts."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.opened = 0
        self.closed = threading.Event()
        self.chunks_sent = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.opened += 1
        hung_up = asyncio.ensure_future(_wait_for_disconnect(receive))
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        while not hung_up.done():
            chunk = {"choices": [{"index": 0, "delta": {"content": f"w{self.chunks_sent} "}}]}
            body = b"data: " + json.dumps(chunk).encode() + b"\n\n"
            await send({"type": "http.response.body", "body": body, "more_body": True})
            self.chunks_sent += 1
            await asyncio.sleep(self.interval)
        self.closed.set()


async def _wait_for_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@contextmanager
def running_asgi(app: Any) -> Iterator[str]:
    with serving(app, name="upstream", lifespan="off") as url:
        yield url


async def call_mcp_tool(
    gateway: str, token: str, tool: str, arguments: dict[str, Any], *, name: str = "mcp-tests"
) -> CallToolResult:
    """One tool call through `/mcp` on the gateway, with the official SDK's client."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    transport = streamable_http_client(f"{gateway}/mcp", http_client=http)
    info = Implementation(name=name, version="1.0")
    async with http, Client(transport, client_info=info) as client:
        return await client.call_tool(tool, arguments)
