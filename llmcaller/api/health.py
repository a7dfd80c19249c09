"""`GET /health`: the status of the gateway's parts and of each provider.

It answers 200 whatever the status: the body says it. Load balancers use the
unauthenticated `/livez` instead.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from rest_framework import serializers

from llmcaller.api.base import ApiView
from llmcaller.api.outputs import OutputSerializer
from llmcaller.health import gather_health
from llmcaller.models import ApiMethod
from providers.models import HealthStatus

STATUSES = [HealthStatus.OK, HealthStatus.DEGRADED, HealthStatus.FAILED]


class CoverageOutput(OutputSerializer):
    capability = serializers.CharField()
    status = serializers.CharField()


class ComponentOutput(OutputSerializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    details = serializers.CharField(required=False)
    lastHeartbeat = serializers.DateTimeField(source="last_heartbeat", required=False)
    capabilityCoverage = CoverageOutput(source="capability_coverage", many=True, required=False)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if value not in (None, "")}


class HealthOutput(OutputSerializer):
    status = serializers.ChoiceField(choices=STATUSES)
    timestamp = serializers.DateTimeField()
    components = ComponentOutput(many=True)


class HealthView(ApiView):
    api_method = ApiMethod.GET_HEALTH

    async def get(self, request: HttpRequest) -> JsonResponse:
        await self.admit(request, None)
        return JsonResponse(HealthOutput(await gather_health()).data)
