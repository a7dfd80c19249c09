"""Embedding models behind a plain /v1/models: known by name, by a probe, or by the operator."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from providers.adapters.naming import kind_from_name
from providers.discovery import discover_models
from providers.forms import ModelForm
from providers.models import Model, ModelSource
from tests.factories import ModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db

CHAT_MODEL = "qwen2.5-7b-instruct"
EMBED_MODEL = "text-embedding-nomic-embed-text-v1.5"


@pytest.mark.parametrize(
    ("model_id", "kind"),
    [
        ("text-embedding-all-minilm-l6-v2", "embeddings"),
        ("text-embedding-3-small", "embeddings"),
        ("nomic-embed-text", "embeddings"),
        ("mxbai-embed-large:latest", "embeddings"),
        ("BAAI/bge-m3", "embeddings"),
        ("intfloat/multilingual-e5-large", "embeddings"),
        ("sentence-transformers/all-MiniLM-L6-v2", "embeddings"),
        ("qwen2.5-7b-instruct", "llm"),  # "2.5" is not "e5"
        ("meta-llama-3.1-8b-instruct", "llm"),
        ("gemma-3-12b-it", "llm"),
    ],
)
def test_the_kind_is_read_from_the_model_name(model_id, kind):
    assert kind_from_name(model_id) == kind


def test_a_plain_v1_models_listing_gives_embedding_models_their_capability(upstream):
    provider = ProviderFactory(kind="openai_compatible", base_url=upstream.url)

    discover_models(provider=provider)

    embed = Model.objects.get(provider=provider, model_id=EMBED_MODEL)
    chat = Model.objects.get(provider=provider, model_id=CHAT_MODEL)
    assert (embed.kind, embed.capabilities) == ("embeddings", ["embed"])
    assert (chat.kind, chat.capabilities) == ("llm", ["chat", "chatStream"])


def _misnamed(upstream) -> Model:
    """An embedding model discovery took for a chat model (its name says nothing)."""
    provider = ProviderFactory(kind="openai_compatible", base_url=upstream.url)
    return ModelFactory(
        provider=provider, model_id=EMBED_MODEL, kind="llm", capabilities=["chat"],
        source=ModelSource.DISCOVERED,
    )  # fmt: skip


def test_the_operators_probe_settles_the_kind_and_discovery_keeps_it(upstream, admin_client):
    model = _misnamed(upstream)
    chat = ModelFactory(provider=model.provider, model_id=CHAT_MODEL, kind="embeddings",
                        capabilities=["embed"], source=ModelSource.DISCOVERED)  # fmt: skip

    response = admin_client.post(
        reverse("admin:providers_model_changelist"),
        {"action": "probe_kind_action", "_selected_action": [model.pk, chat.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert f"/{EMBED_MODEL} is embeddings: serves embed." in page
    assert f"/{CHAT_MODEL} is llm: serves chat, chatStream." in page
    model.refresh_from_db()
    assert (model.kind, model.capabilities, model.source) == ("embeddings", ["embed"], "declared")


def test_an_operators_kind_outlasts_rediscovery(upstream):
    model = _misnamed(upstream)
    data = {**model_to_dict(model), "kind": "embeddings", "capabilities": ["embed"]}
    data = {key: value for key, value in data.items() if value is not None}
    form = ModelForm(data=data, instance=model)
    assert form.is_valid(), form.errors
    form.save()
    upstream.set(legacy=True)  # whatever the listing now says

    discover_models(provider=model.provider)

    model.refresh_from_db()
    assert (model.kind, model.capabilities, model.source) == ("embeddings", ["embed"], "declared")
