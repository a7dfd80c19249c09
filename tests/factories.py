"""factory-boy factories with defaults an operator would recognise."""

from __future__ import annotations

import factory

from llmcaller.models import ApiMethod, Client
from providers.models import Capability, Model, ModelKind, ModelSource, Provider


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        django_get_or_create = ["key"]

    key = factory.Sequence(lambda n: f"lmstudio-{n}")
    name = factory.LazyAttribute(lambda p: f"LM Studio {p.key}")
    kind = "lmstudio"
    base_url = "http://127.0.0.1:1234"
    timeout_seconds = 2.0
    capabilities = factory.LazyFunction(lambda: [Capability.CHAT, Capability.CHAT_STREAM])


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Model

    provider = factory.SubFactory(ProviderFactory)
    model_id = factory.Sequence(lambda n: f"model-{n}")
    kind = ModelKind.LLM
    capabilities = factory.LazyFunction(lambda: [Capability.CHAT, Capability.CHAT_STREAM])
    loaded = True
    source = ModelSource.DECLARED


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    tool_id = factory.Sequence(lambda n: f"tool-{n}")
    name = factory.LazyAttribute(lambda c: f"Tool {c.tool_id}")
    allowed_methods = factory.LazyFunction(lambda: list(ApiMethod.values))
