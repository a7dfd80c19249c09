"""A routing configuration built as export data, to compile snapshots without a database."""

from __future__ import annotations

import copy
from typing import Any

from providers.types import ChatMessage
from routing.snapshot import build_snapshot
from routing.types import Snapshot

CHAT, STREAM, EMBED = "chat", "chatStream", "embed"


def provider(key: str, kind: str = "lmstudio", **fields: Any) -> dict[str, Any]:
    return {
        "key": key, "name": key.title(), "kind": kind, "base_url": "http://127.0.0.1:1234",
        "timeout_seconds": 30.0, "retry_attempts": 2, "enabled": True, "load_on_demand": False,
        "credential_env": "", "notes": "", "capabilities": [CHAT, STREAM, EMBED],
    } | fields  # fmt: skip


def model(provider_key: str, model_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "provider": provider_key, "model_id": model_id, "kind": "llm",
        "capabilities": [CHAT, STREAM], "max_context_length": 8192, "quantization": "",
        "architecture": "", "publisher": "", "description": "", "tool_use": False,
        "vision": False, "enabled": True, "source": "declared",
    } | fields  # fmt: skip


def score(ref: str, capability: str = CHAT, value: int = 50, default: bool = False) -> dict:
    provider_key, model_id = ref.split("/", 1)
    return {"provider": provider_key, "model": model_id, "capability": capability,
            "score": value, "is_default": default}  # fmt: skip


def step(ref: str, **flags: bool) -> dict[str, Any]:
    provider_key, model_id = ref.split("/", 1)
    on = {"on_temporary": True, "on_rate_limit": True, "on_timeout": True, "on_auth": False}
    return {"provider": provider_key, "model": model_id} | on | flags


def base_config() -> dict[str, Any]:
    """Two providers: a local LM Studio and a cloud account, four models."""
    return {
        "format": "llmcaller-config/1",
        "providers": [provider("cloud", kind="openai"), provider("local")],
        "models": [
            model("cloud", "gpt", max_context_length=128000),
            model("local", "llama"),
            model("local", "nomic-embed", kind="embeddings", capabilities=[EMBED]),
            model("local", "qwen-coder"),
        ],
        "capability_scores": [
            score("cloud/gpt", value=90),
            score("local/llama", value=70, default=True),
            score("local/qwen-coder", value=60),
            score("local/nomic-embed", EMBED, 80, default=True),
        ],
        "task_preferences": [
            {"task": "coding", "models": [ref("local/qwen-coder"), ref("cloud/gpt")]},
        ],
        "fallback_chains": [
            {
                "name": "chat-safety",
                "capability": CHAT,
                "is_default": True,
                "description": "",
                "steps": [step("cloud/gpt"), step("local/llama")],
            },
        ],  # fmt: skip
        "fault_rules": [],
    }


def ref(value: str) -> dict[str, str]:
    provider_key, model_id = value.split("/", 1)
    return {"provider": provider_key, "model": model_id}


def compile_config(
    config: dict[str, Any] | None = None,
    *,
    health: dict[str, str] | None = None,
    runtime_models: dict[tuple[str, str], tuple[bool, int | None, bool]] | None = None,
) -> Snapshot:
    config = copy.deepcopy(config or base_config())
    loaded = {(m["provider"], m["model_id"]): (True, None, True) for m in config["models"]}
    runtime = {
        "health": {p["key"]: "ok" for p in config["providers"]} | (health or {}),
        "models": loaded | (runtime_models or {}),
    }
    return build_snapshot(config, runtime)


def user(text: str) -> tuple[ChatMessage, ...]:
    return (ChatMessage("user", text),)
