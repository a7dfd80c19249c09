"""Keep Django's stock middleware off the API's hot path.

Every stock middleware (sessions, CSRF, auth, messages, …) is a
`MiddlewareMixin`: under ASGI each of its hooks runs in a worker thread through
`sync_to_async`, a thread hop per hook per request. The API authenticates with
its own tokens and sets no cookies, so it needs none of them. This one natively
async middleware is the whole `MIDDLEWARE` setting: it sends the API paths
straight to the view and every other path (the admin, the docs) through the
chain named in `SITE_MIDDLEWARE`, whose `process_view` hooks (CSRF's) it runs
for those paths only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

API_PATHS = ("/mcp/", "/health", "/livez")

Handler = Callable[[HttpRequest], Any]


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATHS)


class SiteOnlyMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        self.site_chain = get_response
        hooks = []
        for path in reversed(settings.SITE_MIDDLEWARE):
            middleware = import_string(path)(self.site_chain)
            self.site_chain = middleware
            if hasattr(middleware, "process_view"):
                hooks.insert(0, middleware.process_view)
        self.view_hooks = hooks

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self._acall(request)
        if is_api_path(request.path_info):
            return self.get_response(request)
        return self.site_chain(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if is_api_path(request.path_info):
            return await self.get_response(request)
        return await self.site_chain(request)

    async def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponseBase | None:
        if is_api_path(request.path_info):
            return None
        for hook in self.view_hooks:
            response = await sync_to_async(hook)(request, view, args, kwargs)
            if response is not None:
                return response
        return None
