"""A real HTTP server on loopback that plays an upstream from a test's handler.

A test writes its upstream as a function from `httpx.Request` to `httpx.Response`
(httpx's types are a convenient way to say what an upstream receives and sends);
the adapter under test reaches it over real HTTP through the gateway's own
client. What a handler raises is played as the network would: a timeout as an
answer that never comes, and a body stream that fails as a connection that
drops in the middle of the body.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx

Handler = Callable[[httpx.Request], httpx.Response]
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


class PlayingUpstream:
    def __init__(self) -> None:
        self._handlers: dict[str, tuple[Handler, str]] = {}
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _make_request_handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def base_url(self, handler: Handler, plays: str) -> str:
        """A base URL on this server whose requests `handler` answers as if sent to
        `plays` (its scheme, host and path prefix are what the handler sees)."""
        prefix = f"/h{next(self._ids)}"
        self._handlers[prefix] = (handler, plays.rstrip("/"))
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{prefix}{urlsplit(plays).path.rstrip('/')}"

    def route(self, path: str) -> tuple[Handler, str, str]:
        prefix, _, rest = path[1:].partition("/")
        handler, plays = self._handlers[f"/{prefix}"]
        origin = urlsplit(plays)
        return handler, f"{origin.scheme}://{origin.netloc}", "/" + rest


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: tuple) -> None:
        # A client that hangs up (a test's short timeout, a pool closed at the
        # end of a test) is part of the play, not a failure worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _make_request_handler(upstream: PlayingUpstream) -> type[BaseHTTPRequestHandler]:
    class Playing(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._play()

        do_POST = do_GET

        def _play(self) -> None:
            handler, origin, path = upstream.route(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(self.command, origin + path, headers=self.headers.items(),
                                    content=body)  # fmt: skip
            try:
                response = handler(request)
            except httpx.TimeoutException:
                time.sleep(2.0)  # longer than the tests' short timeouts
                self.close_connection = True
                return
            except httpx.HTTPError:
                self.close_connection = True  # hang up without an answer
                return
            chunks, broken = _body(response)
            self.send_response(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            sent = sum(map(len, chunks))
            # A broken body promises more than it sends, then the connection drops.
            self.send_header("Content-Length", str(sent + 1024 if broken else sent))
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(chunk)
            self.wfile.flush()
            if broken:
                self.close_connection = True

    return Playing


def _body(response: httpx.Response) -> tuple[list[bytes], bool]:
    """The body's chunks, and whether its stream failed after them."""
    if isinstance(response.stream, httpx.SyncByteStream):
        return [response.read()], False
    return asyncio.run(_drain(response.stream))


async def _drain(stream: httpx.AsyncByteStream) -> tuple[list[bytes], bool]:
    chunks: list[bytes] = []
    try:
        async for chunk in stream:
            chunks.append(chunk)
    except httpx.HTTPError:
        return chunks, True
    return chunks, False


_shared: PlayingUpstream | None = None
_lock = threading.Lock()


def playing_upstream() -> PlayingUpstream:
    """One server for the whole test session, started at first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = PlayingUpstream()
        return _shared
