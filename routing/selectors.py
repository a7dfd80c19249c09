"""What routing would do, for callers and operators to read: model listings and
capability coverage. Synchronous (database); the API runs each in one thread hop."""

from __future__ import annotations

from dataclasses import dataclass, field

from providers.models import Capability, Model, Provider
from routing.errors import RouteRefused, RoutingError
from routing.planner import default_provider, plan_call


@dataclass(frozen=True)
class ListedModel:
    id: str
    ready: bool
    description: str = ""
    defaults: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelListing:
    provider: str
    models: tuple[ListedModel, ...]


def list_models(*, provider_key: str | None = None) -> ModelListing:
    """The enabled models of a provider (the default one when none is named)."""
    if provider_key:
        provider = Provider.objects.filter(key=provider_key, enabled=True).first()
        if provider is None:
            raise RouteRefused(f"Provider {provider_key!r} is not configured or is disabled.")
    else:
        provider = default_provider()
    defaults = _defaults(provider)
    models = tuple(
        ListedModel(
            id=m.model_id,
            ready=m.seen and m.loaded,
            description=m.description,
            defaults=tuple(c for c, model_id in defaults.items() if model_id == m.model_id),
        )
        for m in Model.objects.filter(provider=provider, enabled=True).order_by("model_id")
    )
    return ModelListing(provider.key, models)


def capability_coverage() -> dict[str, str | None]:
    """For each capability, the `provider/model` a default call would use, else None."""
    coverage: dict[str, str | None] = {}
    for capability in Capability.values:
        try:
            coverage[capability] = plan_call(capability=capability).steps[0].label
        except RoutingError:
            coverage[capability] = None
    return coverage


def _defaults(provider: Provider) -> dict[str, str]:
    found = {}
    for capability in Capability.values:
        try:
            step = plan_call(capability=capability, provider_key=provider.key).steps[0]
        except RoutingError:
            continue
        found[capability] = step.model_id
    return found
