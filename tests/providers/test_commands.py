"""add_provider and the test prompt: the scripted and the operator's ways in."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from providers.models import Model, Provider
from providers.services import send_test_prompt
from tests.factories import ModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def test_add_provider_creates_it_and_discovers_its_models(upstream, capsys):
    call_command(
        "add_provider", "lms-cpu", "--kind", "lmstudio", "--base-url", upstream.url,
        "--capabilities", "chat,embed",
    )  # fmt: skip

    provider = Provider.objects.get(key="lms-cpu")
    assert provider.capabilities == ["chat", "embed"]
    assert provider.models.count() == 4
    assert "lms-cpu: 4 found, 4 added" in capsys.readouterr().out


def test_add_provider_accepts_a_base_url_ending_in_v1_and_says_which_it_uses(upstream, capsys):
    call_command(
        "add_provider", "llama", "--kind", "openai_compatible", "--base-url", f"{upstream.url}/v1/"
    )

    provider = Provider.objects.get(key="llama")
    out = capsys.readouterr()
    assert provider.base_url == upstream.url
    assert f"the gateway adds /v1 itself, so it uses {upstream.url})" in out.out
    assert "llama: 4 found, 4 added" in out.out and "Discovery failed" not in out.err


def test_a_provider_saved_with_v1_before_normalisation_still_answers(upstream):
    provider = ProviderFactory(base_url=f"{upstream.url}/v1")  # saved without clean()
    model = ModelFactory(provider=provider, model_id="qwen2.5-7b-instruct")

    assert send_test_prompt(model=model, prompt="hi").ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "bedrock", "--base-url", "http://127.0.0.1:1"], "kind: Value 'bedrock'"),
        (["--kind", "lmstudio", "--base-url", "localhost:1234"], "base_url: Enter a valid URL"),
        (
            ["--kind", "openai", "--base-url", "https://x.test", "--credential-env", "my key"],
            "credential_env: Name an environment variable",
        ),  # fmt: skip
        (
            ["--kind", "lmstudio", "--base-url", "http://h.test", "--capabilities", "vision"],
            "capabilities: unknown: vision",
        ),  # fmt: skip
    ],
)
def test_add_provider_refuses_bad_input_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_provider", "bad", *args, "--no-discover")
    assert not Provider.objects.exists()


def test_add_provider_keeps_the_provider_when_discovery_fails(down_url, capsys):
    call_command("add_provider", "later", "--kind", "lmstudio", "--base-url", down_url)

    assert Provider.objects.filter(key="later").exists()
    assert "Discovery failed: later could not be reached" in capsys.readouterr().err


def test_a_test_prompt_reports_answer_latency_and_tokens(upstream):
    model = ModelFactory(
        provider=ProviderFactory(base_url=upstream.url), model_id="qwen2.5-7b-instruct"
    )

    result = send_test_prompt(model=model, prompt="are you there")

    assert result.ok and result.answer == "Sandbox reply to: are you there"
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.latency_ms > 0


def test_a_test_prompt_to_an_embedding_model_embeds(upstream):
    provider = ProviderFactory(base_url=upstream.url)
    model = ModelFactory(
        provider=provider, model_id="text-embedding-nomic-embed-text-v1.5", capabilities=["embed"]
    )

    assert send_test_prompt(model=model).answer == "a vector of 8 dimensions"


def test_the_admin_action_shows_the_answer_or_the_sanitized_error(upstream, admin_client):
    provider = ProviderFactory(base_url=upstream.url)
    good = ModelFactory(provider=provider, model_id="qwen2.5-7b-instruct")
    missing = ModelFactory(provider=provider, model_id="no-such-model")

    response = admin_client.post(
        reverse("admin:providers_model_changelist"),
        {"action": "send_test_prompt_action", "_selected_action": [good.pk, missing.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "qwen2.5-7b-instruct answered in" in page
    assert "no-such-model failed" in page and "refused the request (HTTP 404)" in page
    assert Model.objects.count() == 2


def test_a_test_prompt_from_the_admin_leaves_a_call_record_from_the_admin_door(
    upstream, admin_client
):
    from audit.models import CallRecord

    model = ModelFactory(
        provider=ProviderFactory(key="lms", base_url=upstream.url), model_id="qwen2.5-7b-instruct"
    )

    admin_client.post(
        reverse("admin:providers_model_changelist"),
        {"action": "send_test_prompt_action", "_selected_action": [model.pk]},
    )

    record = CallRecord.objects.get()
    assert (record.door, record.client_name, record.method, record.outcome) == (
        "admin", "admin:admin", "chat", "success",
    )  # fmt: skip
    assert (record.provider, record.model) == ("lms", "qwen2.5-7b-instruct")
    assert record.output_tokens > 0
