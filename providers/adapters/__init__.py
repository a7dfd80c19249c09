"""The adapter registry: the one source of provider kinds.

`Provider.kind` takes its choices from `ADAPTERS`; `adapter_class(kind)` imports
the class lazily so a kind's module loads only when a provider of it is used.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

ADAPTERS: dict[str, tuple[str, str]] = {
    "lmstudio": ("LM Studio", "providers.adapters.lmstudio.LMStudioAdapter"),
    "openai": ("OpenAI", "providers.adapters.openai.OpenAIAdapter"),
    "anthropic": ("Anthropic", "providers.adapters.anthropic.AnthropicAdapter"),
    "ollama": ("Ollama", "providers.adapters.ollama.OllamaAdapter"),
    "openai_compatible": (
        "OpenAI-compatible server",
        "providers.adapters.openai_compatible.OpenAICompatibleAdapter",
    ),
}


class UnknownAdapterKind(LookupError):
    """A provider's kind names no registered adapter (a misconfiguration)."""


KIND_CHOICES = [(kind, label) for kind, (label, _path) in ADAPTERS.items()]


def adapter_class(kind: str) -> type:
    try:
        _label, path = ADAPTERS[kind]
    except KeyError:
        raise UnknownAdapterKind(f"No adapter is registered for provider kind {kind!r}.") from None
    return import_string(path)
