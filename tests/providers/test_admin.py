"""The provider and model admin: forms refuse bad input with a clear error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from providers.models import Provider
from tests.factories import ModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db

VALID = {
    "key": "lms-gpu",
    "name": "LM Studio GPU",
    "kind": "lmstudio",
    "base_url": "http://127.0.0.1:1234",
    "enabled": "on",
    "capabilities": ["chat", "chatStream"],
    "timeout_seconds": "30",
    "retry_attempts": "2",
    "credential_env": "",
    "notes": "",
    "models-TOTAL_FORMS": "0",
    "models-INITIAL_FORMS": "0",
    "models-MIN_NUM_FORMS": "0",
    "models-MAX_NUM_FORMS": "1000",
}


def test_it_creates_a_provider_from_the_add_form(admin_client):
    response = admin_client.post(reverse("admin:providers_provider_add"), VALID)

    assert response.status_code == 302
    provider = Provider.objects.get(key="lms-gpu")
    assert provider.capabilities == ["chat", "chatStream"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_url", "127.0.0.1:1234", "Enter a valid URL."),
        ("base_url", "ftp://models.example", "Enter a valid URL."),
        ("kind", "bedrock", "Select a valid choice."),
        ("credential_env", "openai key", "Name an environment variable"),
        ("timeout_seconds", "0", "greater than or equal to 0.1"),
    ],
)
def test_bad_input_is_a_form_error_not_a_crash(admin_client, field, value, message):
    response = admin_client.post(reverse("admin:providers_provider_add"), {**VALID, field: value})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Provider.objects.exists()


def test_provider_list_shows_health_badge_and_model_count(admin_client):
    provider = ProviderFactory(key="lms", health_status="degraded")
    ModelFactory.create_batch(3, provider=provider)

    page = admin_client.get(reverse("admin:providers_provider_changelist")).content.decode()

    assert 'class="health health-degraded"' in page
    assert '<td class="field-model_count">3</td>' in page


def test_change_page_names_the_credential_variable_but_never_its_value(admin_client, monkeypatch):
    monkeypatch.setenv("SENTINEL_API_KEY", "sk-SENTINEL-admin-page")
    provider = ProviderFactory(kind="openai", credential_env="SENTINEL_API_KEY")

    url = reverse("admin:providers_provider_change", args=[provider.pk])
    page = admin_client.get(url).content.decode()

    assert "SENTINEL_API_KEY: set" in page
    assert "sk-SENTINEL-admin-page" not in page


def test_probe_now_does_not_contact_a_disabled_provider(admin_client, upstream):
    off = ProviderFactory(key="off", base_url=upstream.url, enabled=False)

    response = admin_client.post(
        reverse("admin:providers_provider_changelist"),
        {"action": "probe_now_action", "_selected_action": [off.pk]},
        follow=True,
    )

    assert upstream.requests() == {} or sum(upstream.requests().values()) == 0
    assert "not probed, it is disabled" in response.content.decode()
