"""The OpenAI-compatible door in the published OpenAPI document.

Like the v1 paths (`llmcaller.api.schema`), each `/v1` operation is described by
a never-served DRF view built from the same strict input serializer the real
view validates with, so a body valid by the schema is accepted. The answers are
OpenAI's own objects (`docs/OPENAI.md` says which subset is served); they are
published as open JSON objects rather than re-described here, and errors come in
OpenAI's `{"error": {message, type, param, code}}` shape.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from llmcaller.api.openai_compat.inputs import ChatCompletionInput, EmbeddingsInput
from llmcaller.api.openai_compat.responses import ResponsesInput
from llmcaller.api.schema import documented_view


class OpenAIErrorDetail(serializers.Serializer):
    message = serializers.CharField()
    type = serializers.CharField()
    param = serializers.CharField(allow_null=True)
    code = serializers.CharField()


class OpenAIErrorOutput(serializers.Serializer):
    error = OpenAIErrorDetail()


ERRORS = {
    status: OpenApiResponse(OpenAIErrorOutput, description=meaning)
    for status, meaning in {
        400: "invalid_request_error: the body breaks the schema (`param` names the field).",
        401: "authentication_error: no, unknown, expired or revoked token.",
        403: "permission_error: the client may not call this method.",
        422: "invalid_request_error: no configured model can serve the request.",
        429: "rate_limit_error: over a limit; Retry-After and retry-after-ms (at most 60 s).",
        500: "server_error: misconfiguration found at dispatch.",
        502: "server_error: the provider rejected the gateway's credential.",
        503: "server_error: upstream failure after retries and fallbacks.",
    }.items()
}


def _answer(description: str) -> OpenApiResponse:
    return OpenApiResponse(OpenApiTypes.OBJECT, description=description)


def _post(operation_id: str, request: type, description: str, summary: str) -> type:
    return documented_view(
        "post",
        operation_id=operation_id,
        request=request,
        responses={200: _answer(description), **ERRORS},
        summary=summary,
        tags=["OpenAI-compatible"],
    )


OPENAI_PATTERNS = [
    path(
        "v1/chat/completions",
        _post(
            "openaiChatCompletions",
            ChatCompletionInput,
            "A `chat.completion`, or with `stream: true` a text/event-stream of "
            "`chat.completion.chunk` objects ending in `data: [DONE]`.",
            "Chat completion (OpenAI-compatible)",
        ).as_view(),
    ),
    path(
        "v1/embeddings",
        _post(
            "openaiEmbeddings",
            EmbeddingsInput,
            "A `list` of `embedding` objects (floats, or base64 of little-endian float32).",
            "Embeddings (OpenAI-compatible)",
        ).as_view(),
    ),
    path(
        "v1/responses",
        _post(
            "openaiResponses",
            ResponsesInput,
            "A `response` object, or with `stream: true` its named server-sent events.",
            "Responses, plain text and message input (OpenAI-compatible)",
        ).as_view(),
    ),
    path(
        "v1/models",
        documented_view(
            "get",
            operation_id="openaiModels",
            responses={
                200: _answer("A `list` of `model` objects this client may route to."),
                **ERRORS,
            },  # fmt: skip
            summary="Models, fallback chains and auto (OpenAI-compatible)",
            tags=["OpenAI-compatible"],
        ).as_view(),
    ),
]
