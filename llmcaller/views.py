"""Liveness: the one endpoint that needs no credential, so it reveals nothing."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views import View


class LivenessView(View):
    async def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"status": "alive"})
