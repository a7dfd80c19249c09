"""Values that cross the adapter boundary: small frozen records, never dicts.

Adapters take a `ProviderConfig` (resolved once from a `Provider` row, with its
credential) and speak in `ChatRequest`/`ChatResult`, `EmbedRequest`/`EmbedResult`,
stream events and `DiscoveredModel`s, whatever the upstream's own shapes are.
Tool use travels in the OpenAI words (`Tool`, `ToolChoice`, `ToolCall`), which
the Anthropic adapter maps to and from its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def normalise_base_url(url: str) -> str:
    """The provider's root URL: trailing slashes and one trailing `/v1` dropped.

    Adapters add `/v1/...` (or `/api/...`) themselves, while LM Studio, llama.cpp,
    vLLM and the OpenAI SDK all show base URLs ending in `/v1`: both forms work.
    """
    root = url.strip().rstrip("/")
    if root.lower().endswith("/v1"):
        root = root[: -len("/v1")].rstrip("/")
    return root


@dataclass(frozen=True)
class ProviderConfig:
    key: str
    kind: str
    base_url: str
    timeout: float
    credential: str = field(default="", repr=False)  # never printed

    def url(self, path: str) -> str:
        # Normalised here too: rows saved before normalisation, imported configurations.
        return normalise_base_url(self.base_url) + "/" + path.lstrip("/")


@dataclass(frozen=True)
class ToolCall:
    """A function the model asks the caller to run; `arguments` is JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system, user, assistant, or tool (the answer to a tool call)
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant's calls
    tool_call_id: str | None = None  # which call a tool message answers


@dataclass(frozen=True)
class Tool:
    """A function the model may call: its name, purpose and JSON Schema parameters."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ToolChoice:
    """`auto`, `none`, `required`, or `function` with the function's `name`."""

    mode: str
    name: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    # OpenAI's `response_format` (json_object or json_schema), passed on as given.
    response_format: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False  # counted by the gateway: the upstream said nothing


@dataclass(frozen=True)
class ChatResult:
    model: str
    message: ChatMessage
    usage: Usage
    finish_reason: str = "stop"  # stop, length or tool_calls (OpenAI's words)


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call as it streams: its id and name come first, then
    the arguments' JSON text in pieces; `index` says which call it belongs to."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class ChatDelta:
    """A piece of an answer's text (or of its tool calls), as it arrives."""

    content: str
    tool_calls: tuple[ToolCallDelta, ...] = ()


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
