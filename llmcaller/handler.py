"""Django's ASGI handler, minus a thread per API request.

Django wraps every request in its own `ThreadSensitiveContext`, so the first
synchronous step of each request (the `request_started` signal's receivers, at
the least) starts a new thread, and the request's end hops to it again. The API
paths do little synchronous work (a token lookup on a cache miss, a snapshot
refresh once a second), so they share the process's one sync thread instead;
the admin and other site pages keep Django's per-request context.
"""

from __future__ import annotations

from django.core.handlers.asgi import ASGIHandler

from llmcaller.middleware import is_api_path


class GatewayHandler(ASGIHandler):
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            await self.handle(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
