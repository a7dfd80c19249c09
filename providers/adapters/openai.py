"""The OpenAI API. Its `/v1/models` lists every model of the account without
kinds, so the kind (and so the capabilities) is read from the model id."""

from __future__ import annotations

from typing import Any

from providers.adapters.base import ProviderAdapter
from providers.types import DiscoveredModel

_EMBEDDING_PREFIXES = ("text-embedding-",)
_CHAT_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-")


class OpenAIAdapter(ProviderAdapter):
    def parse_models_response(self, data: dict[str, Any]) -> list[DiscoveredModel]:
        models = []
        for row in data["data"]:
            model_id = str(row["id"])
            if model_id.startswith(_EMBEDDING_PREFIXES):
                models.append(
                    DiscoveredModel(model_id=model_id, kind="embeddings", capabilities=("embed",))
                )
            elif model_id.startswith(_CHAT_PREFIXES):
                # OpenAI's chat models all take tools (function calling).
                publisher = row.get("owned_by", "")
                models.append(DiscoveredModel(model_id, publisher=publisher, tool_use=True))
        return models
