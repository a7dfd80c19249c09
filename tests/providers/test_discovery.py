"""Discovery against the real sandbox upstream over loopback HTTP."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from providers.discovery import discover_models
from providers.errors import UpstreamTemporary, UpstreamUnreachable
from providers.models import Model, ModelSource
from tests.factories import ModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db

CHAT_MODEL = "qwen2.5-7b-instruct"
EMBED_MODEL = "text-embedding-nomic-embed-text-v1.5"


def test_it_adds_what_the_native_api_says_about_each_model(upstream):
    provider = ProviderFactory(base_url=upstream.url)

    summary = discover_models(provider=provider)

    assert (summary.found, summary.added, summary.updated, summary.unseen) == (4, 4, 0, 0)
    chat = Model.objects.get(provider=provider, model_id=CHAT_MODEL)
    assert chat.loaded and chat.tool_use and chat.source == ModelSource.DISCOVERED
    # The maximum and the loaded context length are different facts.
    assert (chat.max_context_length, chat.loaded_context_length) == (32768, 8192)
    assert chat.capabilities == ["chat", "chatStream"]
    embed = Model.objects.get(provider=provider, model_id=EMBED_MODEL)
    assert (embed.kind, embed.capabilities) == ("embeddings", ["embed"])
    not_loaded = Model.objects.get(provider=provider, model_id="meta-llama-3.1-8b-instruct")
    assert not not_loaded.loaded and not_loaded.loaded_context_length is None


def test_an_old_lm_studio_is_discovered_through_plain_v1_models(upstream):
    upstream.set(legacy=True)
    provider = ProviderFactory(base_url=upstream.url)

    discover_models(provider=provider)

    assert Model.objects.get(provider=provider, model_id=EMBED_MODEL).capabilities == ["embed"]
    assert upstream.requests()["/api/v1/models"] == 1


def test_rediscovery_counts_updates_and_marks_vanished_models_not_seen(upstream):
    provider = ProviderFactory(base_url=upstream.url)
    discover_models(provider=provider)
    gone = ModelFactory(provider=provider, model_id="retired-model", source="discovered")
    gone.last_seen = gone.first_seen
    gone.save()
    Model.objects.filter(model_id=CHAT_MODEL).update(loaded=False)

    summary = discover_models(provider=provider)

    assert (summary.added, summary.updated, summary.unseen) == (0, 1, 1)
    gone.refresh_from_db()
    assert not gone.seen and not gone.loaded  # kept, never deleted


def test_it_never_overrides_what_an_admin_decided(upstream):
    provider = ProviderFactory(base_url=upstream.url)
    declared = ModelFactory(
        provider=provider, model_id=CHAT_MODEL, enabled=False, capabilities=["chat"]
    )
    never_found = ModelFactory(provider=provider, model_id="declared-only")

    discover_models(provider=provider)

    declared.refresh_from_db()
    never_found.refresh_from_db()
    assert declared.source == ModelSource.DECLARED and not declared.enabled
    assert declared.capabilities == ["chat"]
    assert declared.max_context_length == 32768  # facts refreshed all the same
    assert never_found.seen


@pytest.mark.parametrize(
    ("switch", "error"),
    [({"error_status": 503}, UpstreamTemporary), ({"malformed": True}, UpstreamTemporary)],
)
def test_a_failing_discovery_changes_nothing(upstream, switch, error):
    provider = ProviderFactory(base_url=upstream.url)
    upstream.set(**switch)

    with pytest.raises(error):
        discover_models(provider=provider)

    assert not Model.objects.exists()


def test_a_provider_that_is_down_is_reported_as_unreachable(down_url):
    with pytest.raises(UpstreamUnreachable, match="could not be reached"):
        discover_models(provider=ProviderFactory(base_url=down_url))


def test_the_command_prints_a_summary_per_provider(upstream, capsys):
    ProviderFactory(key="lms-gpu", base_url=upstream.url)

    call_command("discover_models", "--provider", "lms-gpu")

    assert "lms-gpu: 4 found, 4 added, 0 updated, 0 no longer seen" in capsys.readouterr().out


def test_the_command_fails_for_an_unknown_key_or_a_failed_discovery(down_url, capsys):
    ProviderFactory(key="lms-down", base_url=down_url)

    with pytest.raises(CommandError, match="No provider with key nope"):
        call_command("discover_models", "--provider", "nope")
    with pytest.raises(CommandError, match="failed for 1 of 1"):
        call_command("discover_models")
    assert "lms-down: discovery failed" in capsys.readouterr().err
