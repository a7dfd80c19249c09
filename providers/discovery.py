"""Model discovery: ask a provider what it serves and bring the model rows in line.

Discovery adds models it finds, refreshes the facts of those it knows, and marks
the ones that vanished as not seen. It never deletes a row and never overrides
what an admin decided (enabled, and the kind and capabilities of a declared
model: a discovered model whose kind or capabilities an operator changed, or
settled with the one-off probe, becomes declared). A model it adds
or retires leaves a configuration change, from "discovery".
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from asgiref.sync import async_to_sync
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from audit.models import ChangeSource
from audit.services import record_config_change
from providers.http import upstream_client
from providers.models import Model, ModelSource, Provider
from providers.types import DiscoveredModel

_FACTS = [
    f.name for f in fields(DiscoveredModel) if f.name not in ("model_id", "capabilities", "loaded")
]


@dataclass(frozen=True)
class DiscoverySummary:
    provider: str
    found: int
    added: int
    updated: int
    unseen: int

    def __str__(self) -> str:
        return (
            f"{self.provider}: {self.found} found, {self.added} added, "
            f"{self.updated} updated, {self.unseen} no longer seen"
        )


async def fetch_models(provider: Provider) -> list[DiscoveredModel]:
    async with upstream_client() as client:
        adapter = provider.adapter(client)
        return await adapter.list_models()


def discover_models(*, provider: Provider) -> DiscoverySummary:
    """Fetch the provider's models and apply them. Raises `UpstreamError`."""
    found = async_to_sync(fetch_models)(provider)
    return apply_discovery(provider=provider, found=found)


@transaction.atomic
def apply_discovery(*, provider: Provider, found: list[DiscoveredModel]) -> DiscoverySummary:
    now = timezone.now()
    known = {m.model_id: m for m in Model.objects.select_for_update().filter(provider=provider)}
    added = updated = 0
    for item in found:
        model = known.get(item.model_id)
        if model is None:
            model = Model(provider=provider, model_id=item.model_id, source=ModelSource.DISCOVERED)
            added += 1
        before = _tracked(model)
        _apply_facts(model, item)
        model.seen, model.last_seen = True, now
        if model.pk is not None and _tracked(model) != before:
            updated += 1
        model.full_clean()
        created = model.pk is None
        model.save()
        if created:
            _record(model, "discover", None, _facts(model))
    found_ids = {item.model_id for item in found}
    unseen = [m for m in known.values() if m.model_id not in found_ids and m.seen and m.last_seen]
    for model in unseen:
        before = _facts(model)
        model.seen, model.loaded = False, False
        model.save(update_fields=["seen", "loaded"])
        _record(model, "retire", before, _facts(model))
    return DiscoverySummary(provider.key, len(found), added, updated, len(unseen))


def _apply_facts(model: Model, item: DiscoveredModel) -> None:
    decided = model.pk is not None and model.source == ModelSource.DECLARED
    for name in _FACTS:
        if not (decided and name == "kind"):
            setattr(model, name, getattr(item, name))
    model.loaded = bool(item.loaded)
    if model.source == ModelSource.DISCOVERED or not model.capabilities:
        model.capabilities = list(item.capabilities)


def _tracked(model: Model) -> list:
    """What an update changes, for counting the models discovery updated."""
    return [getattr(model, name) for name in (*_FACTS, "loaded", "capabilities", "seen")]


def _facts(model: Model) -> dict:
    values = model_to_dict(model, exclude=["provider"])
    return {k: v if isinstance(v, str | int | float | bool | list | None) else str(v)
            for k, v in values.items()} | {"provider": model.provider.key}  # fmt: skip


def _record(model: Model, action: str, before: dict | None, after: dict) -> None:
    record_config_change(
        actor="discovery", request_id="", obj_repr=f"model: {model}", action=action,
        before=before, after=after, source=ChangeSource.DISCOVERY,
    )  # fmt: skip
