"""`plan_call`: which provider and model should answer, before anyone is asked.

    the request pins a provider and/or model   → caller-override
    otherwise                                  → capability-default: the default
        provider's first enabled, seen model serving the capability (loaded first)

The default provider is `LLMCALLER_DEFAULT_PROVIDER`, else the first enabled
provider by key. A pin we cannot honour is the caller's mistake (`RouteRefused`,
PERMANENT); no default at all is the operator's (`RouteMisconfigured`, CONFIG).
Planning reads the database synchronously; the orchestrator runs it in one
worker-thread hop rather than one hop per query.
"""

from __future__ import annotations

from django.conf import settings

from providers.models import Model, Provider
from routing.errors import RouteMisconfigured, RouteRefused
from routing.types import RoutePlan, RouteStep, Strategy


def plan_call(
    *,
    capability: str,
    provider_key: str | None = None,
    model_id: str | None = None,
    task: str | None = None,
) -> RoutePlan:
    """The route for one call. `task` is accepted for task preferences (not yet used)."""
    if provider_key or model_id:
        model = _pinned_model(capability, provider_key, model_id)
        return RoutePlan(capability, Strategy.CALLER_OVERRIDE, (_step(model),))
    provider = default_provider()
    model = _serving(Model.objects.filter(provider=provider, seen=True), capability).first()
    if model is None:
        raise RouteMisconfigured(
            f"No enabled model of the default provider {provider.key!r} serves {capability}."
        )
    return RoutePlan(capability, Strategy.CAPABILITY_DEFAULT, (_step(model),))


def default_provider() -> Provider:
    key = settings.LLMCALLER_DEFAULT_PROVIDER
    enabled = Provider.objects.filter(enabled=True)
    provider = enabled.filter(key=key).first() if key else enabled.order_by("key").first()
    if provider is None:
        missing = f"The default provider {key!r} is" if key else "No provider is"
        raise RouteMisconfigured(f"{missing} configured and enabled.")
    return provider


def _pinned_model(capability: str, provider_key: str | None, model_id: str | None) -> Model:
    models = Model.objects.filter(enabled=True, provider__enabled=True).select_related("provider")
    if provider_key:
        if not Provider.objects.filter(key=provider_key, enabled=True).exists():
            raise RouteRefused(f"Provider {provider_key!r} is not configured or is disabled.")
        models = models.filter(provider__key=provider_key)
    if model_id:
        model = _prefer_default(models.filter(model_id=model_id))
        if model is None:
            raise RouteRefused(f"Model {model_id!r} is not available.")
        if not model.serves(capability):
            raise RouteRefused(f"Model {model_id!r} does not serve {capability}.")
        return model
    model = _serving(models.filter(seen=True), capability).first()
    if model is None:
        raise RouteRefused(f"Provider {provider_key!r} has no enabled model serving {capability}.")
    return model


def _prefer_default(models) -> Model | None:
    """Of the same model id on several providers, the default provider's copy."""
    found = list(models.order_by("provider__key"))
    default_key = settings.LLMCALLER_DEFAULT_PROVIDER
    return next((m for m in found if m.provider.key == default_key), found[0] if found else None)


def _serving(models, capability: str):
    # JSON containment lookups differ across databases; the lists are short.
    ids = [m.pk for m in models.filter(enabled=True) if m.serves(capability)]
    found = Model.objects.filter(pk__in=ids).select_related("provider")
    return found.order_by("-loaded", "model_id")


def _step(model: Model) -> RouteStep:
    provider = model.provider
    return RouteStep(provider.to_config(), model.model_id, provider.retry_attempts)
