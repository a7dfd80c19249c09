"""Ollama native API response shapes, as docs.ollama.com/api documents them.

Values are our own; field names and nesting follow the docs. Chat and
embeddings go through Ollama's OpenAI-compatible /v1 endpoints, whose shapes
are the OpenAI ones in `recorded.openai`.
"""

from __future__ import annotations

# https://docs.ollama.com/api/version
VERSION = {"version": "0.11.4"}

# https://docs.ollama.com/api/tags
TAGS = {
    "models": [
        {
            "name": "llama3.2:latest",
            "model": "llama3.2:latest",
            "modified_at": "2025-06-01T10:00:00.000000+02:00",
            "size": 2019393189,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M",
            },
        },
        {
            "name": "nomic-embed-text:latest",
            "model": "nomic-embed-text:latest",
            "modified_at": "2025-05-11T09:00:00.000000+02:00",
            "size": 274302450,
            "digest": "0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "nomic-bert",
                "families": ["nomic-bert"],
                "parameter_size": "137M",
                "quantization_level": "F16",
            },
        },
        {
            "name": "llava:7b",
            "model": "llava:7b",
            "modified_at": "2025-04-02T08:00:00.000000+02:00",
            "size": 4733363377,
            "digest": "8dd30f6b0cb19f555f2c7a7ebda861449ea2cc76bf1f44e262931f45fc81d081",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama", "clip"],
                "parameter_size": "7B",
                "quantization_level": "Q4_0",
            },
        },
    ]
}

# https://docs.ollama.com/api/ps (context_length: the context it was loaded with)
PS = {
    "models": [
        {
            "name": "llama3.2:latest",
            "model": "llama3.2:latest",
            "size": 3619422208,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M",
            },
            "expires_at": "2025-06-01T10:05:00.000000+02:00",
            "size_vram": 3619422208,
            "context_length": 8192,
        }
    ]
}


# https://docs.ollama.com/api/show (model_info trimmed to the keys we read,
# plus one we do not, to show the rest is ignored)
def show(architecture: str, context_length: int, capabilities: list[str]) -> dict:
    return {
        "parameters": 'stop "<|eot_id|>"',
        "template": "{{ .Prompt }}",
        "details": {"parent_model": "", "format": "gguf", "family": architecture},
        "model_info": {
            "general.architecture": architecture,
            "general.parameter_count": 3212749888,
            f"{architecture}.context_length": context_length,
            f"{architecture}.embedding_length": 3072,
        },
        "capabilities": capabilities,
        "modified_at": "2025-06-01T10:00:00.000000+02:00",
    }


SHOW = {
    "llama3.2:latest": show("llama", 131072, ["completion", "tools"]),
    "nomic-embed-text:latest": show("nomic-bert", 2048, ["embedding"]),
    "llava:7b": show("llama", 32768, ["completion", "vision"]),
}
