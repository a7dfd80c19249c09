"""Provider credentials: where each comes from, and how stored ones are kept.

A provider takes its credential from at most one source:

    database     entered in the admin's write-only field, stored encrypted with
                 cryptography's MultiFernet under LLMCALLER_SECRETS_KEYS (newest
                 first; `rotate_secrets` re-encrypts under the newest)
    environment  a variable whose name starts with LLMCALLER_CREDENTIAL_ENV_PREFIX
                 (default LLMCALLER_PROVIDER_): no other variable (DATABASE_URL,
                 the secret key, the token pepper) can ever be sent upstream
    file         a file directly under LLMCALLER_CREDENTIALS_DIR (mounted
                 secrets); a name holding a path, or resolving outside, is refused

A source that is configured but yields nothing (unset, unreadable, not
decryptable with any key) raises `CredentialUnavailable`, whose message names
the provider and nothing else: not the variable, the path or the value. With no
LLMCALLER_SECRETS_KEYS the embedded default derives one key from the secret key;
the production profile requires real keys (system check llmcaller.E004).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError

from providers.errors import CredentialUnavailable

# A mounted secret may change under a running worker: re-read it this often.
REFRESH_SECONDS = 60.0
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def secret_box() -> MultiFernet:
    """The MultiFernet of the configured keys: encrypts with the first."""
    return _box(tuple(settings.LLMCALLER_SECRETS_KEYS) or (_derived_key(settings.SECRET_KEY),))


@lru_cache(maxsize=8)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _derived_key(secret_key: str) -> str:
    digest = hashlib.sha256(b"llmcaller-provider-credentials:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encrypt_credential(value: str) -> bytes:
    return secret_box().encrypt(value.encode())


def decrypt_credential(ciphertext: bytes) -> str:
    """The plain value; raises `InvalidToken` when no configured key opens it."""
    return secret_box().decrypt(bytes(ciphertext)).decode()


def reencrypt_credential(ciphertext: bytes) -> bytes:
    """The same value under the newest key (`InvalidToken` when none opens it)."""
    return secret_box().rotate(bytes(ciphertext))


def validate_credential_env(name: str) -> None:
    prefix = settings.LLMCALLER_CREDENTIAL_ENV_PREFIX
    if name and not name.startswith(prefix):
        raise ValidationError(
            f"Provider credentials may come only from environment variables whose names "
            f"start with {prefix}: other variables hold the gateway's own secrets.",
            code="credential_env_not_allowed",
        )


def validate_credential_file(name: str) -> None:
    if name and not FILE_NAME.match(name):
        raise ValidationError(
            "Name a file directly inside the credentials directory: letters, digits, "
            "dots, dashes and underscores, no path.",
            code="credential_file_not_allowed",
        )


@dataclass(frozen=True)
class CredentialSource:
    """Where one provider's credential comes from; `resolve()` reads it."""

    provider: str
    env: str = ""
    file: str = ""
    ciphertext: bytes = field(default=b"", repr=False)

    @property
    def kind(self) -> str:
        if self.ciphertext:
            return "database"
        return "environment" if self.env else ("file" if self.file else "")

    def resolve(self) -> str:
        """The credential ("" when none is configured), else `CredentialUnavailable`."""
        kind = self.kind
        if not kind:
            return ""
        value = {"database": self._stored, "environment": self._env, "file": self._file}[kind]()
        if not value:
            raise CredentialUnavailable(
                f"{self.provider} has no usable credential: set it again in the admin."
            )
        return value

    def _stored(self) -> str:
        try:
            return decrypt_credential(self.ciphertext)
        except (InvalidToken, UnicodeDecodeError):
            return ""

    def _env(self) -> str:
        if not self.env.startswith(settings.LLMCALLER_CREDENTIAL_ENV_PREFIX):
            return ""  # a row written around the admin's validation
        return os.environ.get(self.env, "")

    def _file(self) -> str:
        directory = settings.LLMCALLER_CREDENTIALS_DIR
        if not directory or not FILE_NAME.match(self.file):
            return ""
        root = Path(directory).resolve()
        path = (root / self.file).resolve()
        if not path.is_relative_to(root):
            return ""  # a symlink pointing out of the directory
        try:
            return path.read_text().strip()
        except (OSError, UnicodeDecodeError):
            return ""


@dataclass(eq=False)
class ResolvedCredential:
    """A source's value, read once and kept for REFRESH_SECONDS: the hot path
    builds an adapter per attempt, and must not decrypt or read a file each time."""

    source: CredentialSource
    clock: Callable[[], float] = time.monotonic
    _value: str | None = field(default=None, repr=False)
    _read_at: float = float("-inf")

    def value(self) -> str:
        now = self.clock()
        if self._value is None or now - self._read_at >= REFRESH_SECONDS:
            self._value, self._read_at = self.source.resolve(), now
        return self._value
