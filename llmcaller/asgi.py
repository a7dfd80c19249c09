"""The ASGI application: the v1 API's transport, Django for the rest, and the lifespan.

The v1 paths are served by `llmcaller.transport` straight from the socket to
their views; every other path goes to Django's handler, static files (the
admin's CSS and JS) first. Django ignores ASGI lifespan events, so this module
answers them: it opens the shared upstream client and runs the MCP server's
session manager from startup; at shutdown it stops the manager, writes the call
records still queued and closes the client.
"""

from __future__ import annotations

import gc
import os
from contextlib import AsyncExitStack

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")

import django  # noqa: E402

django.setup(set_prefix=False)  # as get_asgi_application() does

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from audit.services import flush_pending  # noqa: E402
from llmcaller.mcp import http as mcp_http  # noqa: E402
from llmcaller.metrics import process_exiting  # noqa: E402
from llmcaller.transport import ApiTransport  # noqa: E402
from llmcaller.urls import API_VIEWS  # noqa: E402
from providers.http import close_shared_client, open_shared_client  # noqa: E402
from providers.tracing import configure_tracing, shutdown_tracing  # noqa: E402

# Build the cache backends here, in the context every request's task is copied
# from: Django keeps them per async context, so a worker that had not touched them
# before serving (every worker uvicorn spawns, when LLMCALLER_WORKERS > 1) built a
# new backend, Redis pool and connections for each call.
for _alias in settings.CACHES:
    caches[_alias]

_mcp = mcp_http.McpHttpDoor()
_http = ApiTransport(
    API_VIEWS, site=ASGIStaticFilesHandler(ASGIHandler()), apps={mcp_http.PATH: _mcp}
)


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _http(scope, receive, send)


async def _lifespan(receive, send) -> None:
    running = AsyncExitStack()  # what runs from startup to shutdown
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await open_shared_client()
            await running.enter_async_context(_mcp.running())  # the MCP session manager
            configure_tracing()
            # Everything loaded so far (Django, the apps, the URL map) lives as
            # long as the worker: keeping it out of the collector's full passes
            # took the longest pause per call from ~50 ms to ~15 ms in the bench.
            gc.freeze()
            # A full pass walks every open stream's objects while their chunks
            # wait; fewer of them (LLMCALLER_GC_THRESHOLDS, llmcaller.settings).
            collector = gc.get_threshold()
            gc.set_threshold(*settings.LLMCALLER_GC_THRESHOLDS)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await running.aclose()
            await flush_pending()  # call records still queued on this loop
            await close_shared_client()
            shutdown_tracing()  # the spans still buffered
            process_exiting()
            # A server run inside another process (the tests) hands the collector back.
            gc.unfreeze()
            gc.set_threshold(*collector)
            await send({"type": "lifespan.shutdown.complete"})
            return
