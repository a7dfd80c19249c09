"""`POST /mcp/embed`: vectors for one or more input texts."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from rest_framework import serializers

from llmcaller.api.base import (
    ApiView,
    EnvelopeInput,
    StrictCharField,
    StrictIntegerField,
    cache_policy,
)
from llmcaller.api.outputs import Answer, OutputSerializer, ProviderInfoOutput, UsageOutput
from llmcaller.models import ApiMethod
from providers.models import Capability
from providers.types import EmbedRequest
from routing.orchestrator import execute_embed
from routing.types import RouteRequest


class EmbedInput(EnvelopeInput):
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
        self.call.routed(routed.provider, routed.model, routed.result.usage, routed.routing)
        return JsonResponse(EmbedOutput(Answer(data["requestId"], self.call.trace_id, routed)).data)
