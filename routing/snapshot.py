"""The compiled, immutable routing configuration each worker plans from.

`compile_snapshot()` reads the active configuration version (`routing.versions`)
and compiles its canonical JSON, never the live tables the admin edits, into
`Snapshot` records indexed for the planner, named by the version's number and
hash so call records can store both. Runtime facts (provider health, a model's
loaded state and loaded context length, whether discovery still sees it) are not
configuration: they are read from the live rows and overlaid.

How a worker learns of a change, with no configuration query per request: an
activation, and every write of a runtime fact, bumps one counter row,
`ConfigGeneration`, on commit (`routing.generation`). `SnapshotStore.get()`
hands out the snapshot it holds and reads the counter at most once per
ROUTING_SNAPSHOT_CHECK_SECONDS; only when the counter moved does it recompile
and swap the reference (a plain assignment, so a concurrent reader sees the old
or the new snapshot, never a mixture). We chose a database row over a cache key
because the embedded default runs the local-memory cache, which workers do not
share; one tiny query a second per process costs nothing, and it stays right
with Redis too. The store is the one process-wide object routing keeps, beside
the shared upstream client.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from types import MappingProxyType
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.dateparse import parse_datetime

from providers.adapters import ADAPTERS, adapter_class
from providers.models import Model, Provider
from providers.secrets import CredentialSource
from routing.config_export import FORMAT, config_hash
from routing.generation import read_generation
from routing.types import ChainSpec, ChainStepSpec, FaultSpec, ModelSpec, ProviderSpec, Snapshot
from routing.versions import routing_version

Runtime = dict[str, Any]


EMPTY = {
    "format": FORMAT, "providers": [], "models": [], "capability_scores": [],
    "task_preferences": [], "fallback_chains": [], "fault_rules": [],
}  # fmt: skip


def compile_snapshot() -> Snapshot:
    """Read the active version and the providers' observed state; freeze both."""
    generation = read_generation()
    version = routing_version()
    if version is None:  # review required and nothing approved yet: route nowhere
        return build_snapshot(EMPTY, load_runtime(), generation=generation)
    config = json.loads(version.canonical)
    return build_snapshot(config, load_runtime(), generation=generation, version=version.number)


def load_runtime() -> Runtime:
    """What probes and discovery observed: not configuration, but routing needs it."""
    health = dict(Provider.objects.values_list("key", "health_status"))
    rows = Model.objects.values_list(
        "provider__key", "model_id", "loaded", "loaded_context_length", "seen"
    )
    models = {(p, m): (loaded, ctx, seen) for p, m, loaded, ctx, seen in rows}
    # Stored credentials stay out of the export (and so of its hash): encrypted,
    # but secrets all the same.
    stored = Provider.objects.exclude(credential_ciphertext=b"")
    credentials = {key: bytes(c) for key, c in stored.values_list("key", "credential_ciphertext")}
    return {"health": health, "models": models, "credentials": credentials}


def build_snapshot(
    config: dict[str, Any], runtime: Runtime, *, generation: int = 0, version: int | None = None
) -> Snapshot:
    """Compile an export (a version's canonical JSON) plus runtime facts."""
    providers = {row["key"]: _provider(row, runtime) for row in config["providers"]}
    models = _models(config, runtime)
    chains = {row["name"]: _chain(row) for row in config["fallback_chains"]}
    return Snapshot(
        config_hash=config_hash(config),
        config_version=version,
        generation=generation,
        providers=MappingProxyType(providers),
        models=MappingProxyType(models),
        ranked=MappingProxyType(_ranked(models)),
        task_preferences=MappingProxyType(_task_preferences(config, models)),
        chains=MappingProxyType(chains),
        default_chains=MappingProxyType(
            {c.capability: c.name for c in chains.values() if c.is_default}
        ),
        faults=tuple(_fault(row) for row in config["fault_rules"]),
    )


class SnapshotStore:
    """Holds one worker's snapshot and swaps it when the generation moves."""

    def __init__(
        self, *, interval: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.checked_at = float("-inf")

    def get(self) -> Snapshot:
        now = self.clock()
        if self._fresh(now):
            return self.snapshot
        self.checked_at = now
        if self.snapshot is None or read_generation() != self.snapshot.generation:
            self.snapshot = compile_snapshot()
        return self.snapshot

    async def aget(self) -> Snapshot:
        if self._fresh(self.clock()):
            return self.snapshot  # the hot path: no thread hop, no query
        return await sync_to_async(self.get)()

    def _fresh(self, now: float) -> bool:
        interval = self.interval
        if interval is None:
            interval = settings.ROUTING_SNAPSHOT_CHECK_SECONDS
        return self.snapshot is not None and now - self.checked_at < interval


_store = SnapshotStore()


def current_snapshot() -> Snapshot:
    return _store.get()


async def acurrent_snapshot() -> Snapshot:
    return await _store.aget()


def _provider(row: dict[str, Any], runtime: Runtime) -> ProviderSpec:
    kind = row["kind"]
    adapter = adapter_class(kind) if kind in ADAPTERS else None
    loads = adapter is not None and adapter.reports_load_state
    formats = adapter is not None and adapter.serves_response_format
    return ProviderSpec(
        key=row["key"], name=row["name"], kind=kind, base_url=row["base_url"],
        timeout=row["timeout_seconds"], retry_attempts=row["retry_attempts"],
        enabled=row["enabled"], load_on_demand=row["load_on_demand"],
        reports_load_state=loads, health=runtime["health"].get(row["key"], "unknown"),
        credential_source=CredentialSource(
            row["key"], row["credential_env"], row.get("credential_file", ""),
            runtime.get("credentials", {}).get(row["key"], b""),
        ),
        serves_response_format=formats,
    )  # fmt: skip


def _models(config: dict[str, Any], runtime: Runtime) -> dict[tuple[str, str], ModelSpec]:
    scores: dict[tuple[str, str], dict[str, int]] = {}
    defaults: dict[tuple[str, str], set[str]] = {}
    for row in config["capability_scores"]:
        key = (row["provider"], row["model"])
        scores.setdefault(key, {})[row["capability"]] = row["score"]
        if row["is_default"]:
            defaults.setdefault(key, set()).add(row["capability"])
    models = {}
    for order, row in enumerate(config["models"]):
        key = (row["provider"], row["model_id"])
        loaded, loaded_ctx, seen = runtime["models"].get(key, (False, None, True))
        models[key] = ModelSpec(
            provider=key[0], model_id=key[1], capabilities=frozenset(row["capabilities"]),
            enabled=row["enabled"], seen=seen, loaded=loaded,
            max_context_length=row["max_context_length"], loaded_context_length=loaded_ctx,
            scores=MappingProxyType(scores.get(key, {})),
            defaults=frozenset(defaults.get(key, ())), order=order,
            description=row.get("description", ""), tool_use=row.get("tool_use", False),
        )  # fmt: skip
    return models


def _ranked(models: dict[tuple[str, str], ModelSpec]) -> dict[str, tuple[ModelSpec, ...]]:
    """Per capability, the models that serve or are scored for it: the default
    first, then by score (unscored counts as 0), ties in configuration order."""
    ranked: dict[str, tuple[ModelSpec, ...]] = {}
    capabilities = {c for m in models.values() for c in (*m.capabilities, *m.scores)}
    for capability in capabilities:
        pool = [m for m in models.values() if capability in (*m.capabilities, *m.scores)]
        ranked[capability] = tuple(sorted(pool, key=partial(_rank, capability)))
    return ranked


def _rank(capability: str, model: ModelSpec) -> tuple[bool, int, int]:
    return (capability not in model.defaults, -model.scores.get(capability, 0), model.order)


def _task_preferences(
    config: dict[str, Any], models: dict[tuple[str, str], ModelSpec]
) -> dict[str, tuple[ModelSpec, ...]]:
    return {
        row["task"]: tuple(models[(ref["provider"], ref["model"])] for ref in row["models"])
        for row in config["task_preferences"]
    }


def _chain(row: dict[str, Any]) -> ChainSpec:
    steps = tuple(
        ChainStepSpec(step["provider"], step["model"], _move_on(step)) for step in row["steps"]
    )
    return ChainSpec(row["name"], row["capability"], row["is_default"], steps)


def _move_on(step: dict[str, Any]) -> frozenset[str]:
    flags = {"TEMPORARY": "on_temporary", "RATE_LIMIT": "on_rate_limit"}
    flags |= {"TIMEOUT": "on_timeout", "AUTH": "on_auth"}
    return frozenset(error for error, flag in flags.items() if step[flag])


def _fault(row: dict[str, Any]) -> FaultSpec:
    model = row["model"]
    return FaultSpec(
        name=row["name"], provider=model["provider"] if model else row["provider"],
        model_id=model["model"] if model else None, kind=row["kind"],
        probability=row["probability"], latency_ms=row["latency_ms"],
        break_after=row["break_after"], starts_at=_epoch(row["starts_at"]),
        expires_at=_epoch(row["expires_at"]), enabled=row["enabled"],
    )  # fmt: skip


def _epoch(value: str | None) -> float | None:
    return parse_datetime(value).timestamp() if value else None
