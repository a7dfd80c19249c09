"""Any server that speaks the OpenAI HTTP API (vLLM, llama.cpp, LocalAI, …).

The base adapter's flow is exactly that API, so this kind adds nothing.
"""

from __future__ import annotations

from providers.adapters.base import ProviderAdapter


class OpenAICompatibleAdapter(ProviderAdapter):
    pass
