"""Issuing, hashing and revoking client tokens (the admin and `issue_token` call these).

A raw token is `llmc_` and 43 URL-safe characters (256 random bits). Only its
HMAC-SHA256 under `LLMCALLER_TOKEN_PEPPER` is stored, so a leaked database
does not yield usable tokens; the first 13 characters are kept for display.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from llmcaller.models import Client, ClientToken

TOKEN_PREFIX = "llmc_"
DISPLAY_LENGTH = 13
CACHE_KEY = "llmcaller:token:{}"


@dataclass(frozen=True)
class IssuedToken:
    raw: str  # shown once, never stored
    token: ClientToken


def hash_token(raw: str) -> str:
    pepper = settings.LLMCALLER_TOKEN_PEPPER.encode()
    return hmac.new(pepper, raw.encode(), hashlib.sha256).hexdigest()


def fingerprint(raw: str) -> str:
    """A short, non-reversible name for a presented token, fit for logs."""
    return hash_token(raw)[:12] if raw else "none"


def token_prefix(raw: str) -> str:
    """What a call record may show of a presented token: its first characters, at
    most the display length and never more than a third of it, so a short or
    mistyped secret is not spelled out."""
    return raw[: min(DISPLAY_LENGTH, len(raw) // 3)]


def issue_token(*, client: Client, expires_in_days: float | None = None) -> IssuedToken:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = None
    if expires_in_days is not None:
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    token = ClientToken(
        client=client,
        token_hash=hash_token(raw),
        prefix=raw[:DISPLAY_LENGTH],
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return IssuedToken(raw=raw, token=token)


def revoke_tokens(*, tokens: list[ClientToken]) -> int:
    """Revoke the live ones among `tokens`; returns how many were revoked."""
    now = timezone.now()
    revoked = 0
    for token in tokens:
        if token.revoked_at is None:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            revoked += 1
        forget_token(token.token_hash)
    return revoked


def forget_token(token_hash: str) -> None:
    """Drop a token's cached lookup, so a change applies at its next use."""
    cache.delete(CACHE_KEY.format(token_hash))
