"""`POST /v1/embeddings`: vectors as float lists or, as the official SDKs ask
by default, base64 (little-endian float32, which they decode)."""

from __future__ import annotations

import base64
import struct
from typing import Any

from django.http import HttpRequest, JsonResponse

from llmcaller.api.base import cache_policy, reserve_call
from llmcaller.api.openai_compat.inputs import EmbeddingsInput
from llmcaller.api.openai_compat.targets import resolve_target
from llmcaller.api.openai_compat.view import OpenAIView, checked, read_body, route_headers
from llmcaller.errors import BadRequest
from llmcaller.models import ApiMethod
from providers.models import Capability
from providers.types import EmbedRequest
from routing.orchestrator import execute_embed
from routing.types import RoutedEmbed, RouteRequest


class EmbeddingsView(OpenAIView):
    api_method = ApiMethod.EMBED

    async def post(self, request: HttpRequest) -> JsonResponse:
        body, problem = read_body(request)
        client = await self.admit_call(request, ApiMethod.EMBED)
        data = checked(EmbeddingsInput, body, problem)
        inputs = tuple(data["input"])
        self.call.prompt = list(inputs)
        target = await resolve_target(data["model"])
        if target.task is not None:
            raise BadRequest("model: auto:<task> is for chat; use auto.", param="model")
        route = RouteRequest(
            Capability.EMBED, inputs=inputs, provider=target.provider, model=target.model,
            chain=target.chain,
        )  # fmt: skip
        await reserve_call(client, self.call, inputs=inputs)
        embed = EmbedRequest("", inputs, data.get("dimensions"))
        routed = await execute_embed(request=route, embed=embed, cache=cache_policy(client))
        self.call.routed(routed)
        answer = embeddings_json(routed, data.get("encoding_format", "float"))
        return JsonResponse(
            answer, headers=route_headers(routed.provider, routed.model, routed.routing)
        )


def embeddings_json(routed: RoutedEmbed, encoding: str) -> dict[str, Any]:
    encode = _base64 if encoding == "base64" else list
    tokens = routed.result.usage.input_tokens
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": encode(vector)}
            for index, vector in enumerate(routed.result.vectors)
        ],
        "model": routed.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _base64(vector: tuple[float, ...]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
