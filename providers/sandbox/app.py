"""The sandbox upstream: a raw ASGI app that answers like LM Studio.

`SandboxApp(behaviour)` serves `/v1/models`, `/v1/chat/completions` (plain and
streamed), `/v1/embeddings`, `/api/v1/models` and `/api/v0/models`, and applies
the behaviour switches to those paths only. Each API request goes through the
same steps: count it, wait the added latency, refuse it if a switch says so,
then route it. Everything it answers is deterministic apart from `created`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from providers.sandbox import catalogue
from providers.sandbox.behaviour import SandboxBehaviour
from providers.sandbox.chat import chat_completion, parse_chat, stream_chunks
from providers.sandbox.control import PREFIX, SandboxState, serve_control
from providers.sandbox.embeddings import embeddings_answer
from providers.sandbox.errors import ApiError
from providers.sandbox.wire import (
    Receive,
    Send,
    encode,
    header,
    load_json,
    read_body,
    send_bytes,
    send_error,
    send_json,
    send_sse,
    sse_event,
)

Handler = Callable[[dict[str, Any], Receive, Send, SandboxBehaviour], Awaitable[None]]

# What `malformed` answers with 200: JSON cut off mid-object, and an SSE event
# whose data is such JSON. Both are what a crashed or buggy server might send.
_MALFORMED_JSON = b'{"object": "list", "data": [{"id": '
_MALFORMED_SSE = [b'data: {"id": "chatcmpl-sandbox", "choices": [{"delta": \n\n']


class SandboxApp:
    def __init__(self, behaviour: SandboxBehaviour | None = None) -> None:
        self.state = SandboxState(behaviour or SandboxBehaviour())
        # The listings never change, so they are encoded once.
        self._listings = {
            "/v1/models": encode(catalogue.openai_listing()),
            "/api/v1/models": encode(catalogue.native_v1_listing()),
            "/api/v0/models": encode(catalogue.native_v0_listing()),
        }
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", path): self._list_models for path in self._listings
        }
        self._routes[("POST", "/v1/chat/completions")] = self._chat
        self._routes[("POST", "/v1/embeddings")] = self._embed

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "http":
            if scope["path"].startswith(PREFIX):
                await serve_control(self.state, scope, receive, send)
            else:
                await self._serve_api(scope, receive, send)

    async def _serve_api(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        self.state.count(scope["path"])
        behaviour = self.state.behaviour  # one snapshot for the whole request
        if behaviour.latency_ms:
            await asyncio.sleep(behaviour.latency_ms / 1000)
        handler = self._routes.get((scope["method"], scope["path"]))
        try:
            _refuse(behaviour, scope)
            if handler is None or _hidden(behaviour, scope["path"]):
                raise _unexpected_endpoint(scope)
            await handler(scope, receive, send, behaviour)
        except ApiError as error:
            await send_error(send, error, _retry_after(error, behaviour))

    async def _list_models(
        self, scope: dict[str, Any], receive: Receive, send: Send, behaviour: SandboxBehaviour
    ) -> None:
        body = _MALFORMED_JSON if behaviour.malformed else self._listings[scope["path"]]
        await send_bytes(send, 200, body)

    async def _chat(
        self, scope: dict[str, Any], receive: Receive, send: Send, behaviour: SandboxBehaviour
    ) -> None:
        raw = await read_body(receive)
        call = parse_chat(load_json(raw), raw)
        created = int(time.time())
        if not call.stream:
            if behaviour.malformed:
                await send_bytes(send, 200, _MALFORMED_JSON)
            else:
                await send_json(send, 200, chat_completion(call, created))
            return
        if behaviour.malformed:
            events = _MALFORMED_SSE
        else:
            chunks = stream_chunks(call, created, usage=not behaviour.no_stream_usage)
            events = [sse_event(chunk) for chunk in chunks]
        await send_sse(send, events, break_after=behaviour.break_stream_after)

    async def _embed(
        self, scope: dict[str, Any], receive: Receive, send: Send, behaviour: SandboxBehaviour
    ) -> None:
        answer = embeddings_answer(load_json(await read_body(receive)))
        if behaviour.malformed:
            await send_bytes(send, 200, _MALFORMED_JSON)
        else:
            await send_json(send, 200, answer)


def _refuse(behaviour: SandboxBehaviour, scope: dict[str, Any]) -> None:
    """Raise the failure a switch calls for; authentication comes first, as upstream."""
    key = behaviour.require_api_key
    if key and header(scope, b"authorization") != f"Bearer {key}":
        raise ApiError(401, "Missing or invalid API key.", type="authentication_error")
    if behaviour.rate_limit_retry_after is not None:
        raise ApiError(429, "Sandbox rate limit reached.", type="rate_limit_error")
    if behaviour.error_status is not None:
        raise ApiError(
            behaviour.error_status,
            f"Sandbox failure (HTTP {behaviour.error_status}).",
            type="server_error" if behaviour.error_status >= 500 else "invalid_request_error",
        )


def _hidden(behaviour: SandboxBehaviour, path: str) -> bool:
    """Whether an older LM Studio, as the switches describe it, lacks `path`."""
    if behaviour.legacy:
        return path.startswith("/api/")
    return behaviour.v0_only and path.startswith("/api/v1/")


def _unexpected_endpoint(scope: dict[str, Any]) -> ApiError:
    return ApiError(404, f"Unexpected endpoint or method. ({scope['method']} {scope['path']})")


def _retry_after(error: ApiError, behaviour: SandboxBehaviour) -> list[tuple[bytes, bytes]]:
    if error.status == 429 and behaviour.rate_limit_retry_after is not None:
        return [(b"retry-after", str(behaviour.rate_limit_retry_after).encode())]
    return []


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to open or close; answering keeps uvicorn's lifespan "auto" quiet.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
