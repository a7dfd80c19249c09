"""The API's own ASGI transport: from the socket to a v1 view without Django's handler.

Django's ASGI handler costs more than a millisecond per request, before any
view runs: it spools the body into a temporary file, sends `request_started`
and `request_finished` (whose database receiver runs on a worker thread: two
thread hops), resolves the URL, runs the middleware chain, and starts two tasks.
The v1 views need none of it: they read no session, cookie or CSRF token (their
own client tokens authenticate) and they are async. So the paths in
`llmcaller.urls.API_VIEWS` are served here (and `/mcp`, an ASGI app of
its own: `llmcaller.mcp.http`), and every other path (the admin,
the schema and docs, static files) goes to Django.

What this keeps of Django's handler:

- the view gets a real `HttpRequest` (`ASGIRequest`) and returns a real
  `HttpResponse`, so views and their tests are plain Django;
- the body is read whole before the view runs, and no more than
  `DATA_UPLOAD_MAX_MEMORY_SIZE` of it is kept, so `request.body` refuses an
  over-long body (`RequestDataTooBig`) as it does under Django, chunked ones too
  (Django 5.2 checks the buffered size when `Content-Length` is absent);
- the `Host` header is checked against `ALLOWED_HOSTS` before the view runs,
  and a disallowed one gets Django's own 400 answer;
- a client that disconnects cancels the view, and a stream's generator is closed;
- `response.close()` is called once the answer is sent (or abandoned), as
  Django's handler does: it frees what the response holds (a file, an
  iterator). It also sends `request_finished`, here on the event loop, where
  Django's own receivers find no database connection or cache to close;
- the sync thread's database connections are checked (`close_old_connections`:
  age, errors) at most once a second instead of at each request's start and end.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.exception import response_for_exception
from django.db import close_old_connections
from django.http import HttpResponseBase

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
View = Callable[[ASGIRequest], Awaitable[HttpResponseBase]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CONNECTION_CHECK_INTERVAL = 1.0


class ApiTransport:
    """Serve `views` (path → async view) directly, and `apps` (path → ASGI app, such
    as the MCP server's); hand every other request to `site`."""

    def __init__(
        self,
        views: dict[str, View],
        site: Callable[..., Awaitable[None]],
        apps: dict[str, App] | None = None,
    ) -> None:
        self.views = views
        self.site = site
        self.apps = apps or {}
        self._connections_checked = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.apps.get(scope["path"]) if scope["type"] == "http" else None
        if app is not None:
            await app(scope, receive, send)
            await self._check_connections()  # its tools use the same sync thread
            return
        view = self.views.get(scope["path"]) if scope["type"] == "http" else None
        if view is None:
            await self.site(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left before it finished sending
        request = ASGIRequest(scope, io.BytesIO(body))
        try:
            request.get_host()
        except DisallowedHost as exc:
            await _send_closing(response_for_exception(request, exc), send)
            return
        await _answer(view, request, receive, send)
        await self._check_connections()

    async def _check_connections(self) -> None:
        now = time.monotonic()
        if now - self._connections_checked >= CONNECTION_CHECK_INTERVAL:
            self._connections_checked = now
            await sync_to_async(close_old_connections)()


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, cut one byte past the upload limit (Django then refuses it)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    keep = None if limit is None else limit + 1
    chunks: list[bytes] = []
    kept = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if keep is None or kept < keep:
            chunk = chunk if keep is None else chunk[: keep - kept]
            chunks.append(chunk)
            kept += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(view: View, request: ASGIRequest, receive: Receive, send: Send) -> None:
    hangup = _Hangup(receive)
    try:
        response = await view(request)
        await _send_closing(response, send)
    except asyncio.CancelledError:
        if not hangup.heard:
            raise  # the server is cancelling us, not the client
        asyncio.current_task().uncancel()
    finally:
        hangup.stop()


class _Hangup:
    """Cancels the request's task when its client disconnects before the answer ends."""

    def __init__(self, receive: Receive) -> None:
        self.heard = False
        self._request = asyncio.current_task()
        self._listener = asyncio.create_task(self._listen(receive))

    async def _listen(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.heard = True
        self._request.cancel()

    def stop(self) -> None:
        # Runs right after the last `send`, before the listener can wake to the
        # server's end-of-response disconnect, so a finished answer is never cancelled.
        self._listener.cancel()


async def _send_closing(response: HttpResponseBase, send: Send) -> None:
    try:
        await _send_response(response, send)
    finally:
        response.close()


async def _send_response(response: HttpResponseBase, send: Send) -> None:
    headers = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in response.items()]
    start = {"type": "http.response.start", "status": response.status_code, "headers": headers}
    if not response.streaming:
        body = response.content
        headers.append((b"content-length", str(len(body)).encode()))
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    await send(start)
    async with aclosing(aiter(response)) as parts:
        async for part in parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
