"""`POST /mcp/embed`: vectors for one or more input texts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import serializers

from llmcaller.api.base import (
    ApiView,
    EnvelopeInput,
    StrictCharField,
    StrictIntegerField,
    cache_policy,
)
from llmcaller.api.outputs import (
    OutputSerializer,
    ProviderInfoOutput,
    UsageOutput,
    provider_info_json,
    usage_json,
)
from llmcaller.models import ApiMethod
from providers.models import Capability
from providers.types import EmbedRequest
from routing.orchestrator import execute_embed
from routing.types import RoutedEmbed, RouteRequest


class EmbedInput(EnvelopeInput):
    """An embedding request: one vector per input text."""

    inputs = serializers.ListField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False), allow_empty=False
    )
    model = StrictCharField(required=False, max_length=255)
    provider = StrictCharField(required=False, max_length=64)
    dimensions = StrictIntegerField(required=False, min_value=1)


class EmbedOutput(OutputSerializer):
    requestId = serializers.CharField(source="request_id")
    vectors = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), source="routed.result.vectors"
    )
    usage = UsageOutput(source="routed.result.usage")
    providerInfo = ProviderInfoOutput(source="routed")
    traceId = serializers.CharField(source="trace_id")


def embed_json(
    request_id: str, trace_id: str, routed: RoutedEmbed, routing: dict[str, Any]
) -> dict[str, Any]:
    """`EmbedOutput`. The vectors go out as the adapter parsed them: tuples of
    floats, which JSON writes as the lists the serializer would build."""
    return {
        "requestId": request_id, "vectors": routed.result.vectors,
        "usage": usage_json(routed.result.usage),
        "providerInfo": provider_info_json(routed, routing), "traceId": trace_id,
    }  # fmt: skip


class EmbedView(ApiView):
    api_method = ApiMethod.EMBED

    async def post(self, request: HttpRequest) -> JsonResponse:
        client, data = await self.admit(request, EmbedInput)
        inputs = tuple(data["inputs"])
        route = RouteRequest(
            Capability.EMBED, inputs=inputs, provider=data.get("provider"), model=data.get("model")
        )
        embed = EmbedRequest("", inputs, data.get("dimensions"))
        routed = await execute_embed(request=route, embed=embed, cache=cache_policy(client))
        self.call.routed(routed)
        body = embed_json(data["requestId"], self.call.trace_id, routed, self.call.routing)
        return JsonResponse(body)
