"""The OpenAPI description of the v1 API, for drf-spectacular.

drf-spectacular introspects only DRF views, and the hot path is plain Django
async views (DRF's `APIView` cannot await). Rather than add an async-APIView
dependency (adrf) to the hot path for the sake of documentation, each endpoint
gets a thin DRF `APIView` here that is never served: it only carries the
endpoint's `extend_schema`, built from the same serializers the real views use.
`urlpatterns` below mirror the real paths and are read only by the schema view;
tests validate real responses against the published schema, so drift fails them.

The v1 contract is exact, so every published object is closed
(`additionalProperties: false`: a field the schema does not name is a
violation, and the schema test catches a view that adds one), except
`providerInfo.routing`, which the contract leaves open ("capability, strategy,
…") for routing to say more without breaking callers.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer
from drf_spectacular.utils import extend_schema as schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from llmcaller.api.chat import ChatInput, ChatOutput, CompletionOutput
from llmcaller.api.embed import EmbedInput, EmbedOutput
from llmcaller.api.health import HealthOutput
from llmcaller.api.models import ModelListOutput
from llmcaller.api.outputs import ErrorOutput

OPEN_OBJECTS = frozenset({"RoutingOutput"})


def close_objects(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: close every object component but the open ones."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if component.get("type") == "object" and name not in OPEN_OBJECTS:
            component.setdefault("additionalProperties", False)
    return result


class DeltaContentOutput(serializers.Serializer):
    content = serializers.CharField()


class StreamDeltaEvent(serializers.Serializer):
    type = serializers.ChoiceField(choices=["delta"])
    delta = DeltaContentOutput()


class StreamCompletionEvent(serializers.Serializer):
    type = serializers.ChoiceField(choices=["completion"])
    payload = CompletionOutput()
    traceId = serializers.CharField()


STREAM_EVENT = PolymorphicProxySerializer(
    component_name="ChatStreamEvent",
    serializers=[StreamDeltaEvent, StreamCompletionEvent, ErrorOutput],
    resource_type_field_name=None,
)
ERRORS = {
    status: OpenApiResponse(ErrorOutput, description=meaning)
    for status, meaning in {
        400: "BAD_REQUEST: the body breaks the schema (the message names the field).",
        401: "UNAUTHENTICATED: no, unknown, expired or revoked token.",
        403: "FORBIDDEN: the client may not call this method, or the address is refused.",
        422: "PERMANENT: unsupported capability or a request no provider can serve.",
        429: "RATE_LIMIT: over a limit; Retry-After header and retryAfterMs (at most 60 s).",
        500: "CONFIG: misconfiguration found at dispatch.",
        502: "AUTH: the provider rejected the gateway's credential.",
        503: "TEMPORARY: upstream failure after retries; retry later.",
    }.items()
}
PROVIDER = OpenApiParameter("provider", str, description="A provider key; default when absent.")


def _documented(http_method: str, **spec: Any) -> type[APIView]:
    """A never-served DRF view carrying one operation's schema."""

    def handler(self: APIView, request: Any) -> None:
        raise NotImplementedError("schema only: the real view is in llmcaller.api")

    attributes = {http_method: schema(**spec)(handler), "parser_classes": [JSONParser]}
    return type(f"{spec['operation_id']}Schema", (APIView,), attributes)


def _post(
    operation_id: str, request: type, ok: Any, summary: str, media: str = "application/json"
) -> type[APIView]:
    responses = {(200, media): ok, **ERRORS}
    return _documented(
        "post", operation_id=operation_id, request=request, responses=responses, summary=summary
    )


urlpatterns = [
    path("mcp/chat", _post("chat", ChatInput, ChatOutput, "Chat with a routed model").as_view()),
    path(
        "mcp/chatStream",
        _post(
            "chatStream",
            ChatInput,
            OpenApiResponse(
                STREAM_EVENT,
                description="text/event-stream: each `data:` line holds one event (deltas, "
                "then the completion, or an error), then `data: [DONE]`.",
            ),
            "Chat, streamed as server-sent events",
            media="text/event-stream",
        ).as_view(),
    ),
    path("mcp/embed", _post("embed", EmbedInput, EmbedOutput, "Embed texts").as_view()),
    path(
        "mcp/models",
        _documented(
            "get",
            operation_id="models",
            parameters=[PROVIDER],
            responses={200: ModelListOutput, **ERRORS},
            summary="List a provider's models",
        ).as_view(),
    ),
    path(
        "health",
        _documented(
            "get",
            operation_id="getHealth",
            responses={200: HealthOutput, **ERRORS},
            summary="Health of the gateway and its providers",
        ).as_view(),
    ),
]
