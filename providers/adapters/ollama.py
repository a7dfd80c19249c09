"""Ollama: OpenAI-compatible `/v1/*` for calls, its native API for discovery.

Chat, streaming and embeddings use the inherited OpenAI flow unchanged.
Discovery joins three native answers: `/api/tags` (every installed model, with
family and quantization), `/api/ps` (which are loaded, with the context they were
loaded with) and `/api/show` per model (capabilities and the maximum context).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from providers.adapters.base import ProviderAdapter
from providers.errors import UpstreamError
from providers.types import DiscoveredModel

_CHAT = ("chat", "chatStream")


class OllamaAdapter(ProviderAdapter):
    reports_load_state = True

    async def probe(self) -> list[DiscoveredModel]:
        # /api/version is the cheapest answer that proves this is an Ollama
        # server; listing models then costs one /api/show per model.
        await self.request_json("GET", "/api/version")
        return await self.list_models()

    async def list_models(self) -> list[DiscoveredModel]:
        tags = await self.request_json("GET", "/api/tags")
        models = self.parse(parse_tags, tags)
        running = await self._running()
        if running is not None:
            models = [_with_running(model, running) for model in models]
        # Concurrently: discovery waits about one /api/show, not one per model;
        # the shared client's pool limits still bound what reaches the server.
        return list(await asyncio.gather(*(self._with_show(model) for model in models)))

    async def _running(self) -> dict[str, int | None] | None:
        """Loaded model names and their context; None when /api/ps cannot say."""
        try:
            data = await self.request_json("GET", "/api/ps")
            return self.parse(parse_ps, data)
        except UpstreamError:
            return None  # loaded state stays unknown rather than failing discovery

    async def _with_show(self, model: DiscoveredModel) -> DiscoveredModel:
        try:
            data = await self.request_json("POST", "/api/show", {"model": model.model_id})
            return self.parse(apply_show, data, model)
        except UpstreamError:
            return model  # one unreadable model must not cost the others: keep the tags facts


def parse_tags(data: dict[str, Any]) -> list[DiscoveredModel]:
    models = []
    for row in data["models"]:
        model_id = str(row.get("model") or row["name"])
        details = row.get("details") or {}
        # Until /api/show says otherwise, the naming convention is all we have.
        embedding = "embed" in model_id.lower()
        models.append(
            DiscoveredModel(
                model_id=model_id,
                kind="embeddings" if embedding else "llm",
                capabilities=("embed",) if embedding else _CHAT,
                quantization=str(details.get("quantization_level") or ""),
                architecture=str(details.get("family") or ""),
            )
        )
    return models


def parse_ps(data: dict[str, Any]) -> dict[str, int | None]:
    running: dict[str, int | None] = {}
    for row in data["models"]:
        context = _int(row.get("context_length"))  # absent before Ollama reported it
        for name in {row.get("model"), row.get("name")} - {None, ""}:
            running[str(name)] = context
    return running


def apply_show(data: dict[str, Any], model: DiscoveredModel) -> DiscoveredModel:
    info = data.get("model_info") or {}
    architecture = str(info.get("general.architecture") or model.architecture)
    model = replace(
        model,
        architecture=architecture,
        max_context_length=_int(info.get(f"{architecture}.context_length")),
    )
    capabilities = data.get("capabilities")
    if not isinstance(capabilities, list):
        return model  # older servers do not list capabilities: keep the guess
    return _with_capabilities(model, set(capabilities))


def _with_capabilities(model: DiscoveredModel, names: set[str]) -> DiscoveredModel:
    capabilities: tuple[str, ...] = ()
    if "completion" in names:
        capabilities += _CHAT
    if "embedding" in names:
        capabilities += ("embed",)
    vision = "vision" in names
    kind = "vlm" if vision else "llm"
    if "embedding" in names and "completion" not in names:
        kind = "embeddings"
    return replace(
        model,
        kind=kind,
        capabilities=capabilities,
        vision=vision,
        tool_use="tools" in names,
    )


def _with_running(model: DiscoveredModel, running: dict[str, int | None]) -> DiscoveredModel:
    loaded = model.model_id in running
    return replace(
        model,
        loaded=loaded,
        loaded_context_length=running[model.model_id] if loaded else None,
    )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and value > 0 else None
