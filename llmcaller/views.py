"""Liveness, the one endpoint that needs no credential (so it reveals nothing), and
`/metrics`, which answers only the scraper's token or network."""

from __future__ import annotations

import asyncio
import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View

from llmcaller.auth import caller_address, presented_token
from llmcaller.metrics import CONTENT_TYPE_LATEST, exposition


class LivenessView(View):
    async def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"status": "alive"})


class MetricsView(View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        if not may_scrape(request):
            body = {"error": "FORBIDDEN", "message": "This caller may not read the metrics."}
            return JsonResponse(body, status=403)
        # Reading every worker's files is blocking file I/O: off the event loop.
        return HttpResponse(await asyncio.to_thread(exposition), content_type=CONTENT_TYPE_LATEST)


def may_scrape(request: HttpRequest) -> bool:
    expected = settings.LLMCALLER_METRICS_TOKEN
    token = presented_token(request)
    if expected and token and hmac.compare_digest(token.encode(), expected.encode()):
        return True
    address = caller_address(request)
    return address is not None and any(
        address in network for network in settings.LLMCALLER_METRICS_NETWORKS
    )
