"""The configuration generation: how workers learn that their snapshot is stale.

Every save or delete of a row the snapshot is compiled from (providers, models,
routing records, fault rules) bumps `ConfigGeneration.number` once the
transaction commits. These are signal receivers, the one place this codebase
uses signals, for a reason: providers' admin, discovery and probes write
Provider and Model rows, and `providers` must not import `routing`. The receiver
holds no logic beyond the bump, which is cache invalidation, not a business rule
(audit stays explicit).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from providers.models import Model, Provider
from routing.models import (
    CapabilityScore,
    ConfigGeneration,
    FallbackChain,
    FallbackStep,
    FaultRule,
    TaskPreference,
)

WATCHED = (Provider, Model, CapabilityScore, TaskPreference, FallbackChain, FallbackStep, FaultRule)
_SINGLETON = 1


def bump_generation() -> None:
    updated = ConfigGeneration.objects.filter(pk=_SINGLETON).update(number=F("number") + 1)
    if not updated:
        ConfigGeneration.objects.get_or_create(pk=_SINGLETON, defaults={"number": 1})


def read_generation() -> int:
    number = ConfigGeneration.objects.filter(pk=_SINGLETON).values_list("number", flat=True)
    return next(iter(number), 0)


def _config_saved(sender: type, **kwargs: object) -> None:
    transaction.on_commit(bump_generation)


for _model in WATCHED:
    post_save.connect(_config_saved, sender=_model, dispatch_uid=f"routing-gen-save-{_model}")
    post_delete.connect(_config_saved, sender=_model, dispatch_uid=f"routing-gen-del-{_model}")
