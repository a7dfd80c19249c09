"""A provider can never be turned into a way out for the gateway's own secrets.

Someone who can edit a provider points it at a listener of their own and names
a variable the gateway holds (DATABASE_URL), a path outside the credentials
directory, or a value no key opens: the listener receives nothing, and the
caller and the operator get a CONFIG error that names the provider alone.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from providers.models import Provider
from tests.factories import ModelFactory, ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL, chat_body

SENTINEL = "postgres://admin:SENTINEL-db-password@db.internal/llmcaller"


class Listener:
    """A loopback TCP listener that keeps every byte anyone sends it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.received = bytearray()
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.received += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture
def thief(listener, transactional_db, monkeypatch) -> Provider:
    """A provider written around the admin's validation (a shell, an old import)."""
    monkeypatch.setenv("DATABASE_URL", SENTINEL)
    provider = ProviderFactory(key="thief", kind="openai", base_url=listener.url)
    Provider.objects.filter(pk=provider.pk).update(credential_env="DATABASE_URL")
    ModelFactory(provider=provider, model_id=CHAT_MODEL)
    return provider


def _assert_config_error_naming_only_the_provider(response, *hidden: str) -> None:
    body = response.json()
    assert (response.status_code, body["error"]) == (500, "CONFIG")
    assert "thief" in body["message"]
    for text in hidden:
        assert text not in response.text


def test_a_variable_outside_the_prefix_is_never_sent(api, thief, listener):
    response = api.post("/mcp/chat", json=chat_body(provider="thief", model=CHAT_MODEL))

    _assert_config_error_naming_only_the_provider(response, "DATABASE_URL", SENTINEL)
    assert SENTINEL.encode() not in listener.received
    assert listener.connections == 0


def test_probe_now_sends_no_secret_and_says_which_provider(admin_client, thief, listener):
    changelist = reverse("admin:providers_provider_changelist")

    page = admin_client.post(
        changelist, {"action": "probe_now_action", "_selected_action": [thief.pk]}, follow=True
    ).content.decode()

    assert "thief has no usable credential" in page
    assert "DATABASE_URL" not in page and SENTINEL not in page
    assert SENTINEL.encode() not in listener.received
    thief.refresh_from_db()
    assert thief.health_status == "failed"


def test_a_value_no_key_opens_is_a_config_error(api, thief):
    other_key = Fernet(Fernet.generate_key())
    Provider.objects.filter(pk=thief.pk).update(
        credential_env="", credential_ciphertext=other_key.encrypt(b"sk-unreadable")
    )

    response = api.post("/mcp/chat", json=chat_body(provider="thief", model=CHAT_MODEL))

    _assert_config_error_naming_only_the_provider(response, "sk-unreadable")


def test_a_credential_file_outside_the_directory_is_never_read(
    api, thief, listener, tmp_path, settings
):
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (tmp_path / "outside").write_text(SENTINEL)
    (secrets_dir / "escape").symlink_to(tmp_path / "outside")
    settings.LLMCALLER_CREDENTIALS_DIR = str(secrets_dir)

    for name in ("../outside", "escape"):
        thief.credential_env, thief.credential_file = "", name
        thief.save()  # no validation, as a shell would; workers recompile on the save
        response = api.post("/mcp/chat", json=chat_body(provider="thief", model=CHAT_MODEL))
        _assert_config_error_naming_only_the_provider(response, SENTINEL, "outside", str(tmp_path))

    assert listener.connections == 0
