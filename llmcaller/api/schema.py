"""The OpenAPI description of the v1 API, for drf-spectacular.

drf-spectacular introspects only DRF views, and the hot path is plain Django
async views (DRF's `APIView` cannot await). Rather than add an async-APIView
dependency (adrf) to the hot path for the sake of documentation, each endpoint
gets a thin DRF `APIView` here that is never served: it only carries the
endpoint's `extend_schema`, built from the same serializers the real views use.
`urlpatterns` below mirror the real paths and are read only by the schema view;
tests validate real responses against the published schema, so drift fails them.
Another door documents its paths by adding its patterns to `urlpatterns`
(`[*V1_PATTERNS, *its_patterns]`), or by being DRF views listed there.

The schema says what the strict inputs enforce and drf-spectacular leaves out
(`StrictInputSchema`): no unknown fields, no empty lists, no blank or NUL-bearing
text, so a request valid by the schema is accepted. Any client with a valid
token may fetch it (`SchemaView`), to generate a client or fuzz the API with its
own credential; staff signed in to the admin may too. The interactive docs stay
staff-only.

The v1 contract is exact, so every published object is closed
(`additionalProperties: false`: a field the schema does not name is a
violation, and the schema test catches a view that adds one), except
`providerInfo.routing`, which the contract leaves open ("capability, strategy,
…") for routing to say more without breaking callers.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.urls import path
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer
from drf_spectacular.utils import extend_schema as schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, serializers
from rest_framework.authentication import (
    BaseAuthentication,
    BasicAuthentication,
    SessionAuthentication,
)
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from llmcaller.api.chat import ChatInput, ChatOutput, CompletionOutput
from llmcaller.api.embed import EmbedInput, EmbedOutput
from llmcaller.api.health import HealthOutput
from llmcaller.api.models import ModelListOutput
from llmcaller.api.outputs import ErrorOutput
from llmcaller.auth import CallerClient, identify, presented_token
from llmcaller.errors import Unauthenticated

# DRF trims text, then refuses it blank; it refuses NUL characters anywhere.
TEXT = r"^[^\u0000]*$"
NON_BLANK_TEXT = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


class StrictInputSchema(OpenApiSerializerExtension):
    """A `StrictSerializer`'s schema, with what its fields enforce beyond
    drf-spectacular's mapping: unknown fields, empty lists, blank text and NULs."""

    target_class = "llmcaller.api.base.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        mapped = auto_schema._map_basic_serializer(self.target, direction)
        mapped["additionalProperties"] = False
        for name, field in self.target.fields.items():
            if name in mapped["properties"]:
                _constrain(field, mapped["properties"][name])
        return mapped


def _constrain(field: serializers.Field, prop: dict[str, Any]) -> None:
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if not field.allow_empty:
            prop["minItems"] = max(prop.get("minItems", 0), 1)
        if isinstance(field, serializers.ListField) and "items" in prop:
            _constrain(field.child, prop["items"])
    elif isinstance(field, serializers.CharField) and prop.get("type") == "string":
        prop["pattern"] = TEXT if field.allow_blank else NON_BLANK_TEXT
        if not field.allow_blank:
            prop["minLength"] = max(prop.get("minLength", 0), 1)


class ClientTokenAuthentication(BaseAuthentication):
    """A client token, as the API takes it (`x-llm-caller-token` or Bearer)."""

    def authenticate(self, request: Request) -> tuple[None, CallerClient] | None:
        if not presented_token(request._request):
            return None  # the admin's session or basic auth may still answer
        try:
            client = async_to_sync(identify)(request._request)
        except Unauthenticated as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        except Exception as exc:  # Forbidden: an address outside the allowed networks
            raise exceptions.PermissionDenied(str(exc)) from None
        return None, client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="llm-caller"'


class ClientOrStaff(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, CallerClient):
            return True
        return bool(request.user and request.user.is_staff)


class SchemaView(SpectacularAPIView):
    """`/api/schema/`: the OpenAPI document, for clients and staff."""

    authentication_classes = [ClientTokenAuthentication, SessionAuthentication,
                              BasicAuthentication]  # fmt: skip
    permission_classes = [ClientOrStaff]
    urlconf = "llmcaller.api.schema"


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


def documented_view(http_method: str, **spec: Any) -> type[APIView]:
    """A never-served DRF view carrying one operation's schema."""

    def handler(self: APIView, request: Any) -> None:
        raise NotImplementedError("schema only: the real view is in llmcaller.api")

    attributes = {http_method: schema(**spec)(handler), "parser_classes": [JSONParser]}
    return type(f"{spec['operation_id']}Schema", (APIView,), attributes)


def _post(
    operation_id: str, request: type, ok: Any, summary: str, media: str = "application/json"
) -> type[APIView]:
    responses = {(200, media): ok, **ERRORS}
    return documented_view(
        "post", operation_id=operation_id, request=request, responses=responses, summary=summary
    )


V1_PATTERNS = [
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
        documented_view(
            "get",
            operation_id="models",
            parameters=[PROVIDER],
            responses={200: ModelListOutput, **ERRORS},
            summary="List a provider's models",
        ).as_view(),
    ),
    path(
        "health",
        documented_view(
            "get",
            operation_id="getHealth",
            responses={200: HealthOutput, **ERRORS},
            summary="Health of the gateway and its providers",
        ).as_view(),
    ),
]


def _door_patterns() -> list[Any]:
    # Imported here: the OpenAI door's schema module builds on this one.
    from llmcaller.api.openai_compat.schema import OPENAI_PATTERNS

    return OPENAI_PATTERNS


urlpatterns = [*V1_PATTERNS, *_door_patterns()]
