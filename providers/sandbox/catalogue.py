"""The sandbox's fixed demo catalogue, in each shape LM Studio lists models.

Four models cover what discovery and routing must tell apart: a loaded chat
LLM with tool use, a chat LLM on disk but not loaded, a vision model and an
embeddings model. `/v1/models` says only their ids; LM Studio's native
`/api/v1/models` (0.4 and later) and `/api/v0/models` (0.3.6 and later) also say
kind, loaded state, context lengths, quantization and capabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHAT_TYPES = ("llm", "vlm")


@dataclass(frozen=True)
class CatalogueModel:
    key: str
    type: str  # as /api/v0 says it: llm, vlm or embeddings
    display_name: str
    publisher: str
    architecture: str
    quantization: str
    bits_per_weight: float
    size_bytes: int
    params_string: str
    format: str
    max_context_length: int
    loaded_context_length: int | None = None  # None: on disk, not loaded
    tool_use: bool = False
    description: str = ""

    @property
    def loaded(self) -> bool:
        return self.loaded_context_length is not None

    @property
    def can_chat(self) -> bool:
        return self.type in CHAT_TYPES

    def as_openai(self) -> dict[str, Any]:
        return {"id": self.key, "object": "model", "owned_by": self.publisher}

    def as_native_v1(self) -> dict[str, Any]:
        # 0.4 folds VLMs into "llm" with capabilities.vision, and says "embedding".
        row: dict[str, Any] = {
            "type": "embedding" if self.type == "embeddings" else "llm",
            "publisher": self.publisher,
            "key": self.key,
            "display_name": self.display_name,
            "architecture": self.architecture,
            "quantization": {"name": self.quantization, "bits_per_weight": self.bits_per_weight},
            "size_bytes": self.size_bytes,
            "params_string": self.params_string,
            "loaded_instances": self._instances(),
            "max_context_length": self.max_context_length,
            "format": self.format,
        }
        if self.can_chat:
            row["capabilities"] = {
                "vision": self.type == "vlm",
                "trained_for_tool_use": self.tool_use,
            }
        row["description"] = self.description
        return row

    def as_native_v0(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.key,
            "object": "model",
            "type": self.type,
            "publisher": self.publisher,
            "arch": self.architecture,
            "compatibility_type": self.format,
            "quantization": self.quantization,
            "state": "loaded" if self.loaded else "not-loaded",
            "max_context_length": self.max_context_length,
        }
        if self.loaded:
            row["loaded_context_length"] = self.loaded_context_length
        row["capabilities"] = ["tool_use"] if self.tool_use else []
        return row

    def _instances(self) -> list[dict[str, Any]]:
        if not self.loaded:
            return []
        return [{"id": self.key, "config": {"context_length": self.loaded_context_length}}]


CATALOGUE: tuple[CatalogueModel, ...] = (
    CatalogueModel(
        key="qwen2.5-7b-instruct",
        type="llm",
        display_name="Qwen2.5 7B Instruct",
        publisher="lmstudio-community",
        architecture="qwen2",
        quantization="Q4_K_M",
        bits_per_weight=4.8,
        size_bytes=4_683_073_888,
        params_string="7B",
        format="gguf",
        max_context_length=32768,
        loaded_context_length=8192,
        tool_use=True,
        description="Sandbox chat model, loaded, trained for tool use.",
    ),
    CatalogueModel(
        key="meta-llama-3.1-8b-instruct",
        type="llm",
        display_name="Meta Llama 3.1 8B Instruct",
        publisher="lmstudio-community",
        architecture="llama",
        quantization="Q4_K_M",
        bits_per_weight=4.8,
        size_bytes=4_920_739_232,
        params_string="8B",
        format="gguf",
        max_context_length=131072,
        description="Sandbox chat model, on disk but not loaded.",
    ),
    CatalogueModel(
        key="qwen2-vl-7b-instruct",
        type="vlm",
        display_name="Qwen2 VL 7B Instruct",
        publisher="mlx-community",
        architecture="qwen2_vl",
        quantization="4bit",
        bits_per_weight=4.0,
        size_bytes=4_676_000_000,
        params_string="7B",
        format="mlx",
        max_context_length=32768,
        loaded_context_length=4096,
        description="Sandbox vision model, loaded.",
    ),
    CatalogueModel(
        key="text-embedding-nomic-embed-text-v1.5",
        type="embeddings",
        display_name="Nomic Embed Text v1.5",
        publisher="nomic-ai",
        architecture="nomic-bert",
        quantization="Q4_K_M",
        bits_per_weight=4.8,
        size_bytes=84_106_624,
        params_string="137M",
        format="gguf",
        max_context_length=2048,
        loaded_context_length=2048,
        description="Sandbox embeddings model, loaded.",
    ),
)

MODELS: dict[str, CatalogueModel] = {model.key: model for model in CATALOGUE}


def openai_listing() -> dict[str, Any]:
    return {"object": "list", "data": [model.as_openai() for model in CATALOGUE]}


def native_v1_listing() -> dict[str, Any]:
    return {"models": [model.as_native_v1() for model in CATALOGUE]}


def native_v0_listing() -> dict[str, Any]:
    return {"object": "list", "data": [model.as_native_v0() for model in CATALOGUE]}
