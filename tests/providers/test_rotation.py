"""`rotate_secrets`: stored credentials move to the newest key, readable all along,
while the gateway keeps answering calls that need them."""

from __future__ import annotations

import threading

import httpx
import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from llmcaller.tokens import issue_token
from providers.models import Provider
from providers.secrets import encrypt_credential
from routing.generation import bump_generation
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.gateway import running_gateway
from tests.llmcaller.helpers import CHAT_MODEL, chat_body

SENTINEL = "sk-SENTINEL-rotated-0123456789"
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def stored(settings, upstream, transactional_db) -> Provider:
    settings.LLMCALLER_SECRETS_KEYS = [OLD]
    provider = ProviderFactory(
        key="vault", base_url=upstream.url, credential_ciphertext=encrypt_credential(SENTINEL)
    )
    ModelFactory(provider=provider, model_id=CHAT_MODEL)
    return provider


def test_values_under_the_old_key_are_read_rotated_and_read_without_it(stored, settings, capsys):
    old_ciphertext = bytes(stored.credential_ciphertext)
    settings.LLMCALLER_SECRETS_KEYS = [NEW, OLD]
    assert Provider.objects.get(pk=stored.pk).credential() == SENTINEL

    call_command("rotate_secrets")

    assert "Re-encrypted 1 stored credentials" in capsys.readouterr().out
    rotated = Provider.objects.get(pk=stored.pk)
    assert bytes(rotated.credential_ciphertext) != old_ciphertext
    settings.LLMCALLER_SECRETS_KEYS = [NEW]
    assert rotated.credential() == SENTINEL
    settings.LLMCALLER_SECRETS_KEYS = [OLD]
    assert rotated.credential_state() == "missing"


def test_a_value_no_key_opens_is_named_by_provider_only(stored, settings, capsys):
    settings.LLMCALLER_SECRETS_KEYS = [NEW]

    with pytest.raises(CommandError) as refused:
        call_command("rotate_secrets")

    assert "vault" in str(refused.value)
    assert SENTINEL not in str(refused.value) + capsys.readouterr().out


def test_calls_keep_succeeding_during_rotation(stored, settings, upstream):
    upstream.set(require_api_key=SENTINEL)
    settings.ROUTING_SNAPSHOT_CHECK_SECONDS = 0.001  # the last call compiles afresh
    token = issue_token(client=ClientFactory(tool_id="rotation")).raw
    statuses: list[int] = []
    stop = threading.Event()

    def call_until_stopped(url: str) -> None:
        headers = {"x-llm-caller-token": token}
        with httpx.Client(base_url=url, headers=headers, timeout=10, trust_env=False) as http:
            while not stop.is_set() or not statuses:
                statuses.append(http.post("/mcp/chat", json=chat_body()).status_code)

    with running_gateway() as url:
        caller = threading.Thread(target=call_until_stopped, args=(url,))
        caller.start()
        settings.LLMCALLER_SECRETS_KEYS = [NEW, OLD]
        call_command("rotate_secrets")
        settings.LLMCALLER_SECRETS_KEYS = [NEW]
        bump_generation()  # as a restart without the old key: every worker reads anew
        stop.set()
        caller.join(timeout=30)
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
            after = http.post(
                "/mcp/chat", json=chat_body(), headers={"x-llm-caller-token": token}
            ).status_code

    assert statuses and set(statuses) == {200}
    assert after == 200
