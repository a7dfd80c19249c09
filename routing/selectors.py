"""What routing would do, for callers and operators to read: model listings,
capability coverage and circuit states. Read from the worker's snapshot, so a
listing costs no configuration query."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from providers.models import Capability, HealthStatus
from routing.breaker import CircuitBreaker
from routing.errors import RouteMisconfigured, RouteRefused
from routing.planner import plan_call
from routing.types import CircuitState, ModelSpec, ProviderSpec, RouteRequest, Snapshot


@dataclass(frozen=True)
class ListedModel:
    id: str
    ready: bool
    description: str = ""
    defaults: tuple[str, ...] = ()
    scores: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelListing:
    provider: str
    models: tuple[ListedModel, ...]


def list_models(snapshot: Snapshot, *, provider_key: str | None = None) -> ModelListing:
    """The enabled models of a provider (the default one when none is named), with
    the capabilities a call without pins would send to each."""
    provider = _provider(snapshot, provider_key)
    routes = default_routes(snapshot)
    models = tuple(
        ListedModel(
            id=model_id,
            ready=_ready(provider, model),
            description=model.description,
            defaults=tuple(c for c, route in routes.items() if route == (key, model_id)),
            scores=dict(model.scores),
        )
        for (key, model_id), model in sorted(snapshot.models.items())
        if key == provider.key and model.enabled
    )  # fmt: skip
    return ModelListing(provider.key, models)


def default_routes(snapshot: Snapshot, states: dict | None = None) -> dict[str, tuple | None]:
    """For each capability, the (provider, model) a call without pins goes to first."""
    routes: dict[str, tuple | None] = {}
    for capability in Capability.values:
        primary = plan_call(RouteRequest(capability), snapshot, states or {}).primary
        routes[capability] = (primary.provider, primary.model) if primary else None
    return routes


def circuit_states(snapshot: Snapshot) -> dict[str, CircuitState]:
    try:
        return CircuitBreaker().states(snapshot.providers)
    except ConnectionError:  # as calls see them while the cache is down (health says so)
        return dict.fromkeys(snapshot.providers, CircuitState.CLOSED)


def _provider(snapshot: Snapshot, key: str | None) -> ProviderSpec:
    key = key or settings.LLMCALLER_DEFAULT_PROVIDER
    if key:
        provider = snapshot.providers.get(key)
        if provider is None or not provider.enabled:
            raise RouteRefused(f"Provider {key!r} is not configured or is disabled.")
        return provider
    enabled = sorted(k for k, p in snapshot.providers.items() if p.enabled)
    if not enabled:
        raise RouteMisconfigured("No provider is enabled.")
    return snapshot.providers[enabled[0]]


def _ready(provider: ProviderSpec, model: ModelSpec) -> bool:
    loaded = model.loaded or not provider.reports_load_state
    return model.seen and loaded and provider.health != HealthStatus.FAILED
