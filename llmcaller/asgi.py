"""The ASGI application: Django, wrapped for static files and the lifespan.

Django's own handler ignores ASGI lifespan events, so this wrapper answers them
to open the shared upstream client at startup and close it at shutdown. Static
files (the admin's CSS and JS) are served from the app directories under
`STATIC_URL`; every other path goes straight to Django's handler (see
`llmcaller.handler` for how API requests skip a thread).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")

import django  # noqa: E402

django.setup(set_prefix=False)  # as get_asgi_application() does

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from audit.services import flush_pending  # noqa: E402
from llmcaller.handler import GatewayHandler  # noqa: E402
from providers.http import close_shared_client, open_shared_client  # noqa: E402

django_application = GatewayHandler()
_http = ASGIStaticFilesHandler(django_application)


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _http(scope, receive, send)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await open_shared_client()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await flush_pending()  # call records still queued on this loop
            await close_shared_client()
            await send({"type": "lifespan.shutdown.complete"})
            return
