"""factory-boy factories for routing records, with defaults an operator would recognise."""

from __future__ import annotations

import factory

from providers.models import Capability
from routing.models import (
    CapabilityScore,
    FallbackChain,
    FallbackStep,
    FaultKind,
    FaultRule,
    Task,
    TaskPreference,
)
from tests.factories import ModelFactory, ProviderFactory


class CapabilityScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CapabilityScore

    model = factory.SubFactory(ModelFactory)
    capability = Capability.CHAT
    score = 50
    is_default = False


class TaskPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskPreference

    task = Task.CODING
    position = factory.Sequence(lambda n: n)
    model = factory.SubFactory(ModelFactory)


class FallbackChainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FallbackChain
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"chain-{n}")
    capability = Capability.CHAT
    is_default = False


class FallbackStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FallbackStep

    chain = factory.SubFactory(FallbackChainFactory)
    position = factory.Sequence(lambda n: n)
    model = factory.SubFactory(ModelFactory)


class FaultRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FaultRule

    name = factory.Sequence(lambda n: f"fault-{n}")
    provider = factory.SubFactory(ProviderFactory)
    model = None
    kind = FaultKind.TEMPORARY
    probability = 1.0
