"""plan_call: which provider and model, by which strategy, and when it refuses."""

from __future__ import annotations

import pytest

from providers.models import Capability, ModelKind
from routing.errors import RouteMisconfigured, RouteRefused
from routing.planner import plan_call
from tests.factories import ModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def test_the_default_is_the_first_enabled_provider_by_key_and_its_first_loaded_model():
    beta = ProviderFactory(key="beta")
    alpha = ProviderFactory(key="alpha", retry_attempts=3)
    ModelFactory(provider=beta, model_id="a-model")
    ModelFactory(provider=alpha, model_id="b-unloaded", loaded=False)
    ModelFactory(provider=alpha, model_id="c-loaded")
    ModelFactory(provider=alpha, model_id="a-gone", seen=False)

    plan = plan_call(capability=Capability.CHAT)

    assert plan.strategy == "capability-default"
    assert [(s.label, s.retry_attempts) for s in plan.steps] == [("alpha/c-loaded", 3)]
    assert plan.info().candidates == ("alpha/c-loaded",)


def test_the_default_provider_setting_wins(settings):
    ModelFactory(provider=ProviderFactory(key="alpha"), model_id="x")
    ModelFactory(provider=ProviderFactory(key="zeta"), model_id="y")
    settings.LLMCALLER_DEFAULT_PROVIDER = "zeta"

    assert plan_call(capability=Capability.CHAT).steps[0].label == "zeta/y"


def test_a_disabled_provider_or_model_is_never_the_default():
    ModelFactory(provider=ProviderFactory(key="alpha", enabled=False), model_id="x")
    beta = ProviderFactory(key="beta")
    ModelFactory(provider=beta, model_id="a-off", enabled=False)
    ModelFactory(provider=beta, model_id="b-on")

    assert plan_call(capability=Capability.CHAT).steps[0].label == "beta/b-on"


def test_a_pinned_model_is_a_caller_override_found_on_any_provider():
    ModelFactory(provider=ProviderFactory(key="alpha"), model_id="x")
    ModelFactory(provider=ProviderFactory(key="beta"), model_id="wanted")

    plan = plan_call(capability=Capability.CHAT, model_id="wanted")

    assert (plan.strategy, plan.steps[0].label) == ("caller-override", "beta/wanted")


def test_a_pinned_provider_serves_its_first_model_for_the_capability():
    beta = ProviderFactory(key="beta")
    ModelFactory(provider=ProviderFactory(key="alpha"), model_id="x")
    ModelFactory(provider=beta, model_id="emb", kind=ModelKind.EMBEDDINGS, capabilities=["embed"])

    plan = plan_call(capability=Capability.EMBED, provider_key="beta")

    assert plan.steps[0].label == "beta/emb"


@pytest.mark.parametrize(
    "pin",
    [
        {"provider_key": "nope"},
        {"model_id": "nope"},
        {"provider_key": "alpha", "model_id": "elsewhere"},
        {"model_id": "emb"},
        {"provider_key": "off"},
    ],
)
def test_a_pin_that_cannot_be_honoured_is_refused(pin):
    alpha = ProviderFactory(key="alpha")
    ModelFactory(provider=alpha, model_id="x")
    ModelFactory(provider=alpha, model_id="emb", capabilities=["embed"])
    ModelFactory(provider=ProviderFactory(key="beta"), model_id="elsewhere")
    ProviderFactory(key="off", enabled=False)

    with pytest.raises(RouteRefused):
        plan_call(capability=Capability.CHAT, **pin)


def test_no_provider_or_no_model_for_the_capability_is_misconfigured(settings):
    with pytest.raises(RouteMisconfigured):
        plan_call(capability=Capability.CHAT)
    ModelFactory(provider=ProviderFactory(key="alpha"), model_id="x")
    with pytest.raises(RouteMisconfigured):
        plan_call(capability=Capability.EMBED)
    settings.LLMCALLER_DEFAULT_PROVIDER = "missing"
    with pytest.raises(RouteMisconfigured):
        plan_call(capability=Capability.CHAT)
