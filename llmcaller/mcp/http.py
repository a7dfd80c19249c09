"""`/mcp`: the MCP server over Streamable HTTP, for any number of workers and hosts.

The SDK's session manager runs stateless with JSON answers: no `Mcp-Session-Id`,
nothing kept between requests, so a load balancer may send each request to any
worker. Clients of the 2025-11-25 revision still open with `initialize` (answered
without a session) and clients of the 2026-07-28 revision send self-contained
requests (`server/discover`, then tools); the SDK tells them apart by the
`MCP-Protocol-Version` header.

Every request must carry a client token, as on v1 (`llmcaller.auth.identify`):
without one it is refused here with HTTP 401 and a JSON-RPC error, before the
SDK sees it. Which tools the client may call is checked per tool call
(`llmcaller.mcp.tools`). The SDK's DNS-rebinding protection stays on, with the
hosts and origins of `LLMCALLER_MCP_ALLOWED_HOSTS` and `..._ORIGINS`.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from llmcaller.auth import identify
from llmcaller.errors import ApiError
from llmcaller.mcp.server import build_server
from llmcaller.mcp.tools import SCOPE_KEY

PATH = "/mcp"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_INVALID_REQUEST = -32600  # JSON-RPC


def transport_security() -> TransportSecuritySettings:
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(settings.LLMCALLER_MCP_ALLOWED_HOSTS),
        allowed_origins=list(settings.LLMCALLER_MCP_ALLOWED_ORIGINS),
    )


class McpHttpDoor:
    """The ASGI app for `/mcp`; it answers only while `running()` is entered."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run a fresh server's session manager (enter it in the ASGI lifespan)."""
        server = build_server()
        server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=transport_security(),
            max_request_body_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 4 * 1024 * 1024,
        )
        manager = server.session_manager
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager
        if manager is None:  # before startup or after shutdown
            await _refuse(send, 503, "The MCP server is not running.")
            return
        request = ASGIRequest(scope, io.BytesIO(b""))  # headers and address only
        try:
            await identify(request)
        except ApiError as exc:
            await _refuse(send, exc.status, exc.message, code=exc.code)
            return
        scope[SCOPE_KEY] = request
        await manager.handle_request(scope, receive, send)


async def _refuse(send: Send, status: int, message: str, *, code: str = "TEMPORARY") -> None:
    body = json.dumps({
        "jsonrpc": "2.0", "id": None,
        "error": {"code": _INVALID_REQUEST, "message": message, "data": {"error": code}},
    }).encode()  # fmt: skip
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="llm-caller"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
