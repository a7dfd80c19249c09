"""System checks for the gateway's secrets and for how it is run.

llmcaller.W001   the token pepper is the embedded default: fine on one
                 machine, but anyone with the source can test stolen hashes
llmcaller.E001   the pepper is set but empty or shorter than 32 characters
llmcaller.E002   production: the secret key is missing, the embedded default or weak
llmcaller.W002   several workers on PostgreSQL without Redis: they share control state
                 through files on this machine, so workers on other hosts would
                 count rate limits, stream slots and budgets apart
llmcaller.E004   production: no LLMCALLER_SECRETS_KEYS (stored credentials would
                 be encrypted under a key derived from the secret key)
llmcaller.E005   production: the token pepper is the embedded default
llmcaller.E006   production: DEBUG is on

`python -m llmcaller.serve` runs every check (with --deploy's in production) and
does not start on an error.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import connections

MIN_PEPPER_LENGTH = 32
MIN_SECRET_KEY_LENGTH = 50  # as Django's own security.W009
MIN_SECRET_KEY_UNIQUE = 5


@register(Tags.security, deploy=False)
def check_token_pepper(app_configs, **kwargs) -> list[CheckMessage]:
    pepper = settings.LLMCALLER_TOKEN_PEPPER
    if pepper == settings.EMBEDDED_TOKEN_PEPPER:
        if settings.PRODUCTION:
            return [
                Error(
                    "LLMCALLER_TOKEN_PEPPER is the embedded default in production.",
                    hint="Set LLMCALLER_TOKEN_PEPPER to a long random value.",
                    id="llmcaller.E005",
                )
            ]
        return [
            Warning(
                "LLMCALLER_TOKEN_PEPPER is the embedded default: client token hashes "
                "are only as secret as this source code.",
                hint="Set LLMCALLER_TOKEN_PEPPER to a long random value, then re-issue tokens.",
                id="llmcaller.W001",
            )
        ]
    if len(pepper) < MIN_PEPPER_LENGTH:
        return [
            Error(
                f"LLMCALLER_TOKEN_PEPPER is set but shorter than {MIN_PEPPER_LENGTH} characters.",
                hint="Use e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
                id="llmcaller.E001",
            )
        ]
    return []


@register(Tags.security, deploy=False)
def check_production_secrets(app_configs, **kwargs) -> list[CheckMessage]:
    if not settings.PRODUCTION:
        return []
    errors = []
    key = settings.SECRET_KEY
    weak = len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < MIN_SECRET_KEY_UNIQUE
    if key == settings.EMBEDDED_SECRET_KEY or key.startswith("django-insecure") or weak:
        errors.append(
            Error(
                "LLMCALLER_SECRET_KEY is missing, the embedded default or weak; the "
                "production profile does not start without a real one.",
                hint=f"Set {MIN_SECRET_KEY_LENGTH}+ random characters, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`.",
                id="llmcaller.E002",
            )
        )
    if not settings.LLMCALLER_SECRETS_KEYS:
        errors.append(
            Error(
                "LLMCALLER_SECRETS_KEYS is empty: stored provider credentials need keys "
                "of their own in production.",
                hint="Generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`.",
                id="llmcaller.E004",
            )
        )
    if settings.DEBUG:
        errors.append(
            Error("LLMCALLER_DEBUG is on in production.", hint="Unset it.", id="llmcaller.E006")
        )
    return errors


@register(deploy=False)
def check_shared_state(app_configs, **kwargs) -> list[CheckMessage]:
    # One machine's workers share through llmcaller.machine_cache; on SQLite that
    # is the whole deployment. A shared database suggests more hosts.
    sqlite = connections["default"].vendor == "sqlite"
    if settings.LLMCALLER_WORKERS <= 1 or settings.REDIS_URL or sqlite:
        return []
    return [
        Warning(
            f"{settings.LLMCALLER_WORKERS} workers without Redis share rate limits, stream "
            "slots, budgets and circuits through files on this machine only: gateways on "
            "other hosts count apart.",
            hint="Set REDIS_URL when more than one host serves (docs/DEPLOYMENT.md).",
            id="llmcaller.W002",
        )
    ]
