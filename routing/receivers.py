"""After a write to a configuration table: refresh the snapshots, publish if due.

Every save or delete of a row the configuration is exported from (providers,
models, routing records, fault rules, clients) runs `_config_written` once the
transaction commits. These are signal receivers, the one place this codebase
uses signals, for a reason: providers' admin, discovery and probes write
Provider and Model rows, and `providers` must not import `routing`. A write
that touches runtime facts only (a probe's health, discovery's loaded state)
just bumps the generation, so workers overlay the new facts; any other write,
without review, publishes the working copy as a new active version (with
review, it stays an unpublished change until someone publishes it).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from providers.models import Model, Provider
from routing.config_export import client_model_or_none
from routing.generation import bump_generation
from routing.models import CapabilityScore, FallbackChain, FallbackStep, FaultRule, TaskPreference
from routing.versions import publish_automatically

RUNTIME_FIELDS = frozenset({
    "health_status", "health_detail", "last_heartbeat", "probe_latency_ms",
    "capability_coverage", "loaded", "loaded_context_length", "seen", "last_seen",
    "first_seen", "updated_at", "claimed_until", "next_probe_at",
})  # fmt: skip


def watched() -> tuple[type, ...]:
    models = (Provider, Model, CapabilityScore, TaskPreference, FallbackChain, FallbackStep)
    client = client_model_or_none()
    return (*models, FaultRule, *((client,) if client is not None else ()))


def _configuration_changed() -> None:
    publish_automatically()
    bump_generation()


def _config_written(sender: type, update_fields: Iterable[str] | None = None, **kw: object) -> None:
    if update_fields is not None and set(update_fields) <= RUNTIME_FIELDS:
        transaction.on_commit(bump_generation)
    else:
        transaction.on_commit(_configuration_changed)


def connect() -> None:
    for model in watched():
        uid = f"{model._meta.label}"
        post_save.connect(_config_written, sender=model, dispatch_uid=f"routing-save-{uid}")
        post_delete.connect(_config_written, sender=model, dispatch_uid=f"routing-del-{uid}")
