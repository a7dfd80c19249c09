"""The provider and model admin: forms refuse bad input with a clear error."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from providers.models import Provider
from providers.secrets import decrypt_credential
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


def test_the_add_form_takes_a_v1_url_and_saves_the_url_the_gateway_uses(admin_client):
    page = admin_client.get(reverse("admin:providers_provider_add")).content.decode()
    assert "A URL ending in /v1" in page and "the URL it uses" in page

    response = admin_client.post(
        reverse("admin:providers_provider_add"), {**VALID, "base_url": "http://127.0.0.1:1234/v1"}
    )

    assert response.status_code == 302
    assert Provider.objects.get(key="lms-gpu").base_url == "http://127.0.0.1:1234"


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


def _credential_status(page: str) -> str:
    match = re.search(r'field-credential_status.*?<div class="readonly">([^<]*)</div>', page, re.S)
    assert match, "the change page has no credential status"
    return match.group(1)


def test_change_page_says_set_or_missing_but_never_the_value(admin_client, monkeypatch):
    monkeypatch.setenv("LLMCALLER_PROVIDER_SENTINEL", "sk-SENTINEL-admin-page")
    provider = ProviderFactory(kind="openai", credential_env="LLMCALLER_PROVIDER_SENTINEL")
    url = reverse("admin:providers_provider_change", args=[provider.pk])

    page = admin_client.get(url).content.decode()
    monkeypatch.delenv("LLMCALLER_PROVIDER_SENTINEL")
    missing = admin_client.get(url).content.decode()

    assert _credential_status(page) == "set"
    assert "sk-SENTINEL-admin-page" not in page
    assert _credential_status(missing) == "missing"


def test_the_form_refuses_a_variable_outside_the_allowed_prefix(admin_client):
    data = {**VALID, "credential_env": "DATABASE_URL"}

    response = admin_client.post(reverse("admin:providers_provider_add"), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "may come only from environment variables whose names start with" in page
    assert "LLMCALLER_PROVIDER_" in page
    assert not Provider.objects.exists()


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "sub/key", ".hidden"])
def test_the_form_refuses_a_credential_file_with_a_path(admin_client, name):
    response = admin_client.post(
        reverse("admin:providers_provider_add"), {**VALID, "credential_file": name}
    )

    assert response.status_code == 200
    assert "Name a file directly inside the credentials directory" in response.content.decode()
    assert not Provider.objects.exists()


def test_an_api_key_entered_in_the_admin_is_write_only_and_encrypted(admin_client):
    secret = "sk-SENTINEL-entered-in-the-admin"
    add = admin_client.post(
        reverse("admin:providers_provider_add"), {**VALID, "credential_value": secret}
    )
    provider = Provider.objects.get(key="lms-gpu")
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    page = admin_client.get(url).content.decode()
    kept = admin_client.post(url, {**VALID, "credential_value": ""})

    assert add.status_code == 302 and kept.status_code == 302
    stored = bytes(Provider.objects.get(pk=provider.pk).credential_ciphertext)
    assert secret.encode() not in stored and decrypt_credential(stored) == secret
    assert secret not in page and _credential_status(page) == "set"

    admin_client.post(url, {**VALID, "clear_credential": "on"})
    assert Provider.objects.get(pk=provider.pk).credential_state() == "none needed"


def test_a_stored_key_and_a_variable_at_once_are_refused(admin_client):
    data = {**VALID, "credential_value": "sk-x", "credential_env": "LLMCALLER_PROVIDER_X"}

    response = admin_client.post(reverse("admin:providers_provider_add"), data)

    assert response.status_code == 200
    assert "Choose one credential source" in response.content.decode()


def test_probe_now_does_not_contact_a_disabled_provider(admin_client, upstream):
    off = ProviderFactory(key="off", base_url=upstream.url, enabled=False)

    response = admin_client.post(
        reverse("admin:providers_provider_changelist"),
        {"action": "probe_now_action", "_selected_action": [off.pk]},
        follow=True,
    )

    assert upstream.requests() == {} or sum(upstream.requests().values()) == 0
    assert "not probed, it is disabled" in response.content.decode()
