"""The live configuration as canonical, diff-friendly data.

`export_config()` returns every provider (where its credential comes from, never the
credential), model, routing record, fault rule and, when the `llmcaller.Client`
model exists, client (tokens left out), keyed by natural keys rather than
database ids and in a stable order. `canonical_json` writes it with sorted keys,
so the same configuration always gives the same bytes and `config_hash` (sha256
of those bytes) names it. Runtime observations (health, loaded state, discovery
timestamps) are not configuration and stay out: a probe never changes the hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.apps import apps
from django.db import models as db

from providers.models import Capability, Model, Provider
from routing.models import CapabilityScore, FallbackChain, FallbackStep, FaultRule, TaskPreference

FORMAT = "llmcaller-config/1"
PROVIDER_FIELDS = (
    "key", "name", "kind", "base_url", "timeout_seconds", "retry_attempts", "enabled",
    "load_on_demand", "credential_env", "credential_file", "notes",
)  # fmt: skip
MODEL_FIELDS = (
    "model_id", "kind", "max_context_length", "quantization", "architecture", "publisher",
    "description", "tool_use", "vision", "enabled", "source",
)  # fmt: skip
FAULT_FIELDS = ("name", "kind", "probability", "latency_ms", "break_after", "enabled", "notes")
STEP_FLAGS = ("on_temporary", "on_rate_limit", "on_timeout", "on_auth")
# A client field holding a secret would end like these; "daily_token_budget" does not.
_SECRET_SUFFIXES = ("token", "_hash", "secret", "password", "pepper", "salt")


def export_config() -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": FORMAT,
        "providers": [export_provider(p) for p in Provider.objects.order_by("key")],
        "models": [export_model(m) for m in _models()],
        "capability_scores": [export_score(s) for s in _scores()],
        "task_preferences": _task_preferences(),
        "fallback_chains": [export_chain(c) for c in _chains()],
        "fault_rules": [export_fault(f) for f in _faults()],
    }
    client_model = client_model_or_none()
    if client_model is not None:
        data["clients"] = _clients(client_model)
    return data


def canonical_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def config_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def model_ref(model: Model) -> dict[str, str]:
    return {"provider": model.provider.key, "model": model.model_id}


def sorted_capabilities(values: list[str]) -> list[str]:
    known = list(Capability.values)
    return sorted(set(values), key=lambda c: (known.index(c) if c in known else len(known), c))


def export_provider(provider: Provider) -> dict[str, Any]:
    row = {name: getattr(provider, name) for name in PROVIDER_FIELDS}
    return row | {"capabilities": sorted_capabilities(provider.capabilities)}


def export_model(model: Model) -> dict[str, Any]:
    row = {name: getattr(model, name) for name in MODEL_FIELDS}
    capabilities = sorted_capabilities(model.capabilities)
    return row | {"provider": model.provider.key, "capabilities": capabilities}


def export_score(score: CapabilityScore) -> dict[str, Any]:
    return model_ref(score.model) | {
        "capability": score.capability,
        "score": score.score,
        "is_default": score.is_default,
    }


def export_chain(chain: FallbackChain) -> dict[str, Any]:
    steps = [
        model_ref(step.model) | {flag: getattr(step, flag) for flag in STEP_FLAGS}
        for step in chain.steps.all()
    ]
    return {
        "name": chain.name,
        "capability": chain.capability,
        "is_default": chain.is_default,
        "description": chain.description,
        "steps": steps,
    }


def export_fault(rule: FaultRule) -> dict[str, Any]:
    row = {name: getattr(rule, name) for name in FAULT_FIELDS}
    return row | {
        "provider": rule.provider.key if rule.provider_id else None,
        "model": model_ref(rule.model) if rule.model_id else None,
        "starts_at": rule.starts_at.isoformat() if rule.starts_at else None,
        "expires_at": rule.expires_at.isoformat() if rule.expires_at else None,
    }


def client_model_or_none() -> type[db.Model] | None:
    try:
        return apps.get_model("llmcaller", "Client")
    except LookupError:
        return None  # the API app (and its clients) has not landed here yet


def _models() -> db.QuerySet[Model]:
    return Model.objects.select_related("provider").order_by("provider__key", "model_id")


def _scores() -> db.QuerySet[CapabilityScore]:
    order = ["model__provider__key", "model__model_id", "capability"]
    return CapabilityScore.objects.select_related("model__provider").order_by(*order)


def _task_preferences() -> list[dict[str, Any]]:
    rows = TaskPreference.objects.select_related("model__provider").order_by("task", "position")
    by_task: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_task.setdefault(row.task, []).append(model_ref(row.model))
    return [{"task": task, "models": by_task[task]} for task in sorted(by_task)]


def _chains() -> db.QuerySet[FallbackChain]:
    ordered = FallbackStep.objects.select_related("model__provider").order_by("position", "id")
    steps = db.Prefetch("steps", queryset=ordered)
    return FallbackChain.objects.prefetch_related(steps).order_by("name")


def _faults() -> db.QuerySet[FaultRule]:
    return FaultRule.objects.select_related("provider", "model__provider").order_by("name")


def _clients(client_model: type[db.Model]) -> list[dict[str, Any]]:
    """Clients with their plain fields only: no token, hash or other secret."""
    names = [
        f.name
        for f in client_model._meta.concrete_fields
        if not f.primary_key
        and not f.is_relation
        and not getattr(f, "auto_now", False)
        and not getattr(f, "auto_now_add", False)
        and not f.name.endswith(_SECRET_SUFFIXES)
    ]
    rows = [{n: _plain(getattr(c, n)) for n in names} for c in client_model.objects.all()]
    return sorted(rows, key=canonical_json)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
