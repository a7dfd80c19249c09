"""LM Studio: OpenAI-compatible `/v1/*` for calls, its native REST API for discovery.

Discovery asks the newest API first and falls back on older servers:
`/api/v1/models` (0.4 and later), else `/api/v0/models`, else plain `/v1/models`.
The native answers say what `/v1/models` does not: kind, loaded state, maximum and
loaded context length, quantization, architecture and capabilities.
"""

from __future__ import annotations

from typing import Any

from providers.adapters.base import ProviderAdapter
from providers.errors import UpstreamPermanent
from providers.types import DiscoveredModel

_EMBEDDING_TYPES = {"embedding", "embeddings"}


class LMStudioAdapter(ProviderAdapter):
    reports_load_state = True

    async def list_models(self) -> list[DiscoveredModel]:
        for path, parser in (
            ("/api/v1/models", self.parse_native_v1),
            ("/api/v0/models", self.parse_native_v0),
        ):
            try:
                data = await self.request_json("GET", path)
            except UpstreamPermanent:
                continue  # 404 and friends: an older LM Studio without this API
            if _missing_endpoint(data):
                continue
            return self.parse(parser, data)
        return await super().list_models()

    def parse_native_v1(self, data: dict[str, Any]) -> list[DiscoveredModel]:
        models = []
        for row in data["models"]:
            kind = _kind(row.get("type"))
            capabilities = row.get("capabilities") or {}
            instances = row.get("loaded_instances") or []
            loaded_context = None
            if instances:
                loaded_context = (instances[0].get("config") or {}).get("context_length")
            quantization = row.get("quantization") or {}
            if isinstance(quantization, dict):
                quantization = quantization.get("name") or ""
            models.append(
                DiscoveredModel(
                    model_id=str(row["key"]),
                    kind="vlm" if kind == "llm" and capabilities.get("vision") else kind,
                    capabilities=_capabilities(kind),
                    loaded=bool(instances),
                    max_context_length=_int(row.get("max_context_length")),
                    loaded_context_length=_int(loaded_context),
                    quantization=str(quantization),
                    architecture=row.get("architecture") or "",
                    publisher=row.get("publisher") or "",
                    description=row.get("description") or row.get("display_name") or "",
                    tool_use=bool(capabilities.get("trained_for_tool_use")),
                    vision=bool(capabilities.get("vision")),
                )
            )
        return models

    def parse_native_v0(self, data: dict[str, Any]) -> list[DiscoveredModel]:
        models = []
        for row in data["data"]:
            kind = _kind(row.get("type"))
            capabilities = row.get("capabilities") or []
            loaded = row.get("state") == "loaded"
            models.append(
                DiscoveredModel(
                    model_id=str(row["id"]),
                    kind=kind,
                    capabilities=_capabilities(kind),
                    loaded=loaded,
                    max_context_length=_int(row.get("max_context_length")),
                    loaded_context_length=_int(row.get("loaded_context_length"))
                    if loaded
                    else None,
                    quantization=row.get("quantization") or "",
                    architecture=row.get("arch") or "",
                    publisher=row.get("publisher") or "",
                    tool_use="tool_use" in capabilities,
                    vision=kind == "vlm" or "vision" in capabilities,
                )
            )
        return models

    # Plain /v1/models (LM Studio before 0.3) is the base adapter's: kinds from names.


def _missing_endpoint(data: Any) -> bool:
    # LM Studio answers a path it does not serve with HTTP 200 and
    # {"error": "Unexpected endpoint or method. (GET …)"}, not with a 404.
    error = data.get("error") if isinstance(data, dict) else None
    return isinstance(error, str) and error.startswith("Unexpected endpoint")


def _kind(value: Any) -> str:
    if value in _EMBEDDING_TYPES:
        return "embeddings"
    return "vlm" if value == "vlm" else "llm"


def _capabilities(kind: str) -> tuple[str, ...]:
    return ("embed",) if kind == "embeddings" else ("chat", "chatStream")


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and value > 0 else None
