"""Issuing, hashing and revoking client tokens (the admin and `issue_token` call these).

A raw token is `llmc_` and 43 URL-safe characters (256 random bits). Only its
HMAC-SHA256 under `LLMCALLER_TOKEN_PEPPER` is stored, so a leaked database
does not yield usable tokens; the first 13 characters are kept for display.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from audit.models import ChangeSource
from audit.services import record_config_change
from llmcaller.models import Client, ClientToken
from routing import memo as memos

TOKEN_PREFIX = "llmc_"
DISPLAY_LENGTH = 13
CACHE_KEY = "llmcaller:token:{}"
logger = logging.getLogger("llmcaller.tokens")

# OAuth access tokens (llmcaller.oauth) start with their own prefix, so a presented
# token is looked up in one table only.
OAUTH_TOKEN_PREFIX = "llmco_"
OAUTH_CACHE_KEY = "llmcaller:oauth-token:{}"


@dataclass(frozen=True)
class IssuedToken:
    raw: str  # shown once, never stored
    token: ClientToken


def hash_token(raw: str) -> str:
    pepper = settings.LLMCALLER_TOKEN_PEPPER.encode()
    return hmac.new(pepper, raw.encode(), hashlib.sha256).hexdigest()


def oauth_checksum(raw: str) -> str:
    """How django-oauth-toolkit finds an access token: the SHA-256 of its value."""
    return hashlib.sha256(raw.encode()).hexdigest()


def fingerprint(raw: str) -> str:
    """A short, non-reversible name for a presented token, fit for logs."""
    return hash_token(raw)[:12] if raw else "none"


def token_prefix(raw: str) -> str:
    """What a call record may show of a presented token: its first characters, at
    most the display length and never more than a third of it, so a short or
    mistyped secret is not spelled out."""
    return raw[: min(DISPLAY_LENGTH, len(raw) // 3)]


def issue_token(
    *,
    client: Client,
    expires_in_days: float | None = None,
    actor: str = "system",
    source: str = ChangeSource.SYSTEM,
) -> IssuedToken:
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
    _record(token, actor, source, "issue token", None)
    return IssuedToken(raw=raw, token=token)


def revoke_tokens(
    *, tokens: list[ClientToken], actor: str = "system", source: str = ChangeSource.SYSTEM
) -> int:
    """Revoke the live ones among `tokens`; returns how many were revoked."""
    now = timezone.now()
    revoked = 0
    for token in tokens:
        if token.revoked_at is None:
            before = _facts(token)
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            _record(token, actor, source, "revoke token", before)
            revoked += 1
        forget_token(token.token_hash)
    return revoked


def forget_token(token_hash: str) -> None:
    """Drop a token's cached lookup, so a change applies at its next use (with the
    cache down, within LLMCALLER_TOKEN_CACHE_SECONDS, when the entry expires)."""
    try:
        caches["tokens"].delete(CACHE_KEY.format(token_hash))
    except ConnectionError:
        logger.warning("Could not drop a token's cached look-up: the cache did not answer")
    memos.tokens.drop(CACHE_KEY.format(token_hash))  # this process: at once


def forget_access_tokens(checksums: list[str]) -> None:
    """Drop OAuth access tokens' cached lookups (by `oauth_checksum`)."""
    if not checksums:
        return
    keys = [OAUTH_CACHE_KEY.format(checksum) for checksum in checksums]
    try:
        caches["tokens"].delete_many(keys)
    except ConnectionError:
        logger.warning("Could not drop OAuth tokens' cached look-ups: the cache did not answer")
    memos.tokens.drop(*keys)  # this process: at once


def _facts(token: ClientToken) -> dict[str, str | None]:
    """What the history keeps of a token: never its hash, only its prefix."""

    def stamp(value: object) -> str | None:
        return value.isoformat() if value else None

    return {
        "client": token.client.tool_id, "prefix": token.prefix,
        "expires_at": stamp(token.expires_at), "revoked_at": stamp(token.revoked_at),
    }  # fmt: skip


def _record(token: ClientToken, actor: str, source: str, action: str, before: dict | None) -> None:
    record_config_change(
        actor=actor, request_id="", obj_repr=f"client token: {token}", action=action,
        before=before, after=_facts(token), source=source,
    )  # fmt: skip
