"""Values that cross the adapter boundary: small frozen records, never dicts.

Adapters take a `ProviderConfig` (resolved once from a `Provider` row, with its
credential) and speak in `ChatRequest`/`ChatResult`, `EmbedRequest`/`EmbedResult`,
stream events and `DiscoveredModel`s, whatever the upstream's own shapes are.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProviderConfig:
    key: str
    kind: str
    base_url: str
    timeout: float
    credential: str = field(default="", repr=False)  # never printed

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class ChatResult:
    model: str
    message: ChatMessage
    usage: Usage


@dataclass(frozen=True)
class ChatDelta:
    """A piece of an answer's text, as it arrives."""

    content: str


@dataclass(frozen=True)
class ChatDone:
    """The end of a stream: the whole answer and what it cost."""

    result: ChatResult


@dataclass(frozen=True)
class EmbedRequest:
    model: str
    inputs: tuple[str, ...]
    dimensions: int | None = None


@dataclass(frozen=True)
class EmbedResult:
    model: str
    vectors: tuple[tuple[float, ...], ...]
    usage: Usage


@dataclass(frozen=True)
class DiscoveredModel:
    """What an upstream says about one of its models; unknown facts stay None."""

    model_id: str
    kind: str = "llm"
    capabilities: tuple[str, ...] = ("chat", "chatStream")
    loaded: bool | None = None
    max_context_length: int | None = None
    loaded_context_length: int | None = None
    quantization: str = ""
    architecture: str = ""
    publisher: str = ""
    description: str = ""
    tool_use: bool = False
    vision: bool = False
