"""The production profile: `check --deploy` passes with the variables the
deployment guide sets, and the gateway refuses to start without real secrets or
with several workers that would each count limits alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connections

from llmcaller.checks import check_production_secrets, check_shared_state

ROOT = Path(__file__).resolve().parents[2]

# What docs/DEPLOYMENT.md tells an operator to set (values made up here).
PRODUCTION = {
    "LLMCALLER_PROFILE": "production",
    "LLMCALLER_SECRET_KEY": "Xk3_9fQz-7LmN2pR8sT4vW6yB1cD5eF0gH3jK7mP9qS2uV4xZ6aC8bE0dG1hJ5kL",
    "LLMCALLER_TOKEN_PEPPER": "p3pp3r-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "LLMCALLER_SECRETS_KEYS": Fernet.generate_key().decode(),
    "AUDIT_TRAIL_KEYS": "k1:Qm9vdHN0cmFwLWF1ZGl0LXRyYWlsLWtleS0wMTIzNDU2Nzg5",
    "LLMCALLER_ALLOWED_HOSTS": "llm.example.org",
    "LLMCALLER_CSRF_TRUSTED_ORIGINS": "https://llm.example.org",
    "LLMCALLER_WORKERS": "4",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "LLMCALLER_RESPONSE_CACHE_URL": "redis://redis-responses.internal:6379/0",
}


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_no_warning_when_configured_as_documented():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "check_id"),
    [
        ({"LLMCALLER_SECRET_KEY": ""}, "llmcaller.E002"),
        ({"LLMCALLER_SECRET_KEY": "short-and-guessable"}, "llmcaller.E002"),
        ({"LLMCALLER_SECRETS_KEYS": ""}, "llmcaller.E004"),
        ({"LLMCALLER_TOKEN_PEPPER": ""}, "llmcaller.E005"),
    ],
)
def test_the_gateway_does_not_start_in_production_without_real_secrets(change, check_id):
    env = {k: v for k, v in {**PRODUCTION, **change}.items() if v}

    result = _run("-m", "llmcaller.serve", **env)

    assert result.returncode != 0
    assert check_id in result.stderr and "The gateway does not start" in result.stderr


def test_several_workers_without_redis_are_told_other_hosts_count_apart(settings, monkeypatch):
    settings.LLMCALLER_WORKERS, settings.REDIS_URL = 2, ""
    monkeypatch.setattr(connections["default"], "vendor", "postgresql")  # a shared database

    (message,) = check_shared_state(None)

    assert message.id == "llmcaller.W002" and "on this machine only" in message.msg
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert check_shared_state(None) == []


def test_several_workers_of_the_embedded_default_start_without_redis(settings, monkeypatch):
    # They share control state through the machine cache: nothing to warn of.
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    settings.LLMCALLER_WORKERS, settings.REDIS_URL = 4, ""
    assert check_shared_state(None) == []
    settings.LLMCALLER_WORKERS = 1
    assert check_shared_state(None) == []


def test_the_embedded_profile_is_not_held_to_production_secrets(settings):
    settings.PRODUCTION = False
    settings.SECRET_KEY = settings.EMBEDDED_SECRET_KEY

    assert check_production_secrets(None) == []
