"""A sentinel credential travels to the upstream and nowhere else: not into a
page, a log line, a message, a command's output or a stored detail; whichever
source holds it (stored encrypted, an allowed environment variable, a mounted
file)."""

from __future__ import annotations

import logging

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from providers.models import Provider
from providers.secrets import encrypt_credential
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

SENTINEL = "sk-SENTINEL-0123456789-do-not-leak"


@pytest.fixture(params=["database", "environment", "file"])
def provider(request, upstream, monkeypatch, tmp_path, settings) -> Provider:
    source: dict = {}
    if request.param == "database":
        source["credential_ciphertext"] = encrypt_credential(SENTINEL)
    elif request.param == "environment":
        monkeypatch.setenv("LLMCALLER_PROVIDER_SENTINEL", SENTINEL)
        source["credential_env"] = "LLMCALLER_PROVIDER_SENTINEL"
    else:
        settings.LLMCALLER_CREDENTIALS_DIR = str(tmp_path)
        (tmp_path / "sentinel-key").write_text(SENTINEL + "\n")
        source["credential_file"] = "sentinel-key"
    return ProviderFactory(key="guarded", base_url=upstream.url, **source)


def test_the_credential_reaches_the_upstream(provider, upstream, capsys):
    upstream.set(require_api_key=SENTINEL)

    call_command("probe_providers", "--provider", "guarded")

    assert capsys.readouterr().out.startswith("guarded: ok")


def test_the_credential_appears_nowhere_when_the_upstream_refuses_it(
    provider, upstream, admin_client, caplog, capsys
):
    upstream.set(require_api_key="another-key")
    caplog.set_level(logging.DEBUG)
    changelist = reverse("admin:providers_provider_changelist")
    seen = []

    for action in ("discover_models_action", "probe_now_action"):
        response = admin_client.post(
            changelist, {"action": action, "_selected_action": [provider.pk]}, follow=True
        )
        seen.append(response.content.decode())
    change_page = reverse("admin:providers_provider_change", args=[provider.pk])
    seen.append(admin_client.get(change_page).content.decode())
    call_command("probe_providers")
    with pytest.raises(CommandError):
        call_command("discover_models")
    captured = capsys.readouterr()
    provider.refresh_from_db()

    assert "rejected the credential" in seen[0] and "rejected the credential" in seen[1]
    for text in [*seen, captured.out, captured.err, caplog.text,
                 provider.health_detail, str(provider.capability_coverage)]:  # fmt: skip
        assert SENTINEL not in text


def test_a_provider_repr_and_config_never_print_the_credential(provider):
    config = provider.to_config()

    assert config.credential == SENTINEL
    assert SENTINEL not in repr(config) and SENTINEL not in str(provider)
