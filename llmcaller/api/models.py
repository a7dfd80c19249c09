"""`GET /mcp/models?provider=KEY`: what a provider serves (the default provider
when none is named), with the capabilities each model answers by default and
its scores."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from rest_framework import serializers

from llmcaller.api.base import ApiView
from llmcaller.api.outputs import OutputSerializer
from llmcaller.models import ApiMethod
from routing.selectors import list_models
from routing.snapshot import acurrent_snapshot


class ListedModelOutput(OutputSerializer):
    id = serializers.CharField()
    ready = serializers.BooleanField()
    description = serializers.CharField(required=False)
    defaults = serializers.ListField(child=serializers.CharField())
    scores = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=100))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not data["description"]:
            del data["description"]  # optional in v1: absent rather than empty
        return data


class ModelListOutput(OutputSerializer):
    provider = serializers.CharField()
    models = ListedModelOutput(many=True)


class ModelListView(ApiView):
    api_method = ApiMethod.MODELS

    async def get(self, request: HttpRequest) -> JsonResponse:
        await self.admit(request, None)
        key = request.GET.get("provider") or None
        listing = list_models(await acurrent_snapshot(), provider_key=key)
        self.call.provider = listing.provider
        return JsonResponse(ModelListOutput(listing).data)
