"""Settings: every variable documented, malformed values refused at startup."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_is_documented_in_env_example():
    settings_source = (ROOT / "llmcaller" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert read, "no variables found: the pattern no longer matches settings.py"
    assert read - documented == set()
    assert documented - read == set()


def _check(**env: str) -> subprocess.CompletedProcess:
    """`manage.py check` with nothing but `env` set: how startup reads it."""
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True,
    )  # fmt: skip


def test_a_malformed_value_stops_startup_with_a_clear_message():
    result = _check(UPSTREAM_CONNECT_TIMEOUT="-1")

    assert result.returncode != 0
    assert "UPSTREAM_CONNECT_TIMEOUT must be greater than zero" in result.stderr


def test_a_short_trail_key_stops_startup():
    result = _check(AUDIT_TRAIL_KEYS="2026:too-short")

    assert result.returncode != 0
    assert "AUDIT_TRAIL_KEYS takes id:secret pairs" in result.stderr
    assert "too-short" not in result.stderr  # a secret never reaches an error message


def test_malformed_collector_thresholds_stop_startup():
    result = _check(LLMCALLER_GC_THRESHOLDS="2000,2")

    assert result.returncode != 0
    assert "LLMCALLER_GC_THRESHOLDS takes three whole numbers greater than zero" in result.stderr
