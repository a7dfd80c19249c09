"""A worker reads a provider's credential once per compiled configuration, not
once per call, and picks up a rotated mounted secret within a minute."""

from __future__ import annotations

import pytest

from providers.errors import CredentialUnavailable
from providers.secrets import REFRESH_SECONDS, CredentialSource
from routing.types import ProviderSpec


def _spec(source: CredentialSource) -> ProviderSpec:
    return ProviderSpec(
        key="p", name="p", kind="openai", base_url="http://127.0.0.1:9", timeout=1.0,
        retry_attempts=0, enabled=True, load_on_demand=False, reports_load_state=False,
        health="ok", credential_source=source,
    )  # fmt: skip


def test_a_mounted_secret_is_read_once_then_again_after_the_refresh(tmp_path, settings):
    settings.LLMCALLER_CREDENTIALS_DIR = str(tmp_path)
    (tmp_path / "key").write_text("sk-first\n")
    spec = _spec(CredentialSource("p", file="key"))
    now = [0.0]
    spec._credential.clock = lambda: now[0]

    first = spec.to_config().credential
    (tmp_path / "key").write_text("sk-second\n")
    cached = spec.to_config().credential
    now[0] += REFRESH_SECONDS
    refreshed = spec.to_config().credential

    assert (first, cached, refreshed) == ("sk-first", "sk-first", "sk-second")


def test_a_provider_without_a_source_needs_no_credential_and_a_lost_one_is_refused(settings):
    assert _spec(CredentialSource("p")).to_config().credential == ""
    with pytest.raises(CredentialUnavailable, match="^p has no usable credential"):
        _spec(CredentialSource("p", env="LLMCALLER_PROVIDER_NEVER_SET")).to_config()
