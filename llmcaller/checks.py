"""System checks for the client registry's secrets.

llmcaller.W001   the token pepper is the embedded default: fine on one
                 machine, but anyone with the source can test stolen hashes
llmcaller.E001   the pepper is set but empty or shorter than 32 characters
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

MIN_PEPPER_LENGTH = 32


@register(Tags.security, deploy=False)
def check_token_pepper(app_configs, **kwargs) -> list[CheckMessage]:
    pepper = settings.LLMCALLER_TOKEN_PEPPER
    if pepper == settings.EMBEDDED_TOKEN_PEPPER:
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
