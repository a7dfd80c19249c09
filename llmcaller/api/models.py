"""`GET /mcp/models?provider=KEY`: what a provider serves (the default provider
when none is named), with the capabilities each model answers by default."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from rest_framework import serializers

from llmcaller.api.base import ApiView
from llmcaller.models import ApiMethod
from routing.selectors import list_models


class ListedModelOutput(serializers.Serializer):
    id = serializers.CharField()
    ready = serializers.BooleanField()
    description = serializers.CharField(required=False)
    defaults = serializers.ListField(child=serializers.CharField())
    scores = serializers.DictField(child=serializers.FloatField())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not data["description"]:
            del data["description"]  # optional in v1: absent rather than empty
        return data


class ModelListOutput(serializers.Serializer):
    provider = serializers.CharField()
    models = ListedModelOutput(many=True)


class ModelListView(ApiView):
    api_method = ApiMethod.MODELS

    async def get(self, request: HttpRequest) -> JsonResponse:
        await self.admit(request, None)
        key = request.GET.get("provider") or None
        listing = await sync_to_async(list_models)(provider_key=key)
        self.call.provider = listing.provider
        return JsonResponse(ModelListOutput(listing).data)
