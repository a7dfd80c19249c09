"""The example deployment files under deploy/ parse, and say nothing the code
does not: every command they run exists, every variable they set is documented."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def _documented() -> set[str]:
    return set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))


def _assert_runs_something_real(argv: list[str]) -> None:
    if "manage.py" in " ".join(argv):
        command = argv[argv.index(next(a for a in argv if a.endswith("manage.py"))) + 1]
        assert command in get_commands(), f"no management command {command!r}"
    else:
        assert argv[-2:] == ["-m", "llmcaller.serve"] or argv[-1].endswith("llmcaller.serve")


def test_there_are_units_for_the_gateway_the_migrations_and_the_scheduled_loops():
    assert {u.name for u in UNITS} >= {
        "llmcaller.service", "llmcaller-migrate.service",
        "llmcaller-probes.service", "llmcaller-rollups.service",
    }  # fmt: skip


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_systemd_unit_parses_and_runs_a_real_command(unit):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.read_string(unit.read_text())

    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    service = parser["Service"]
    assert service["EnvironmentFile"] == "/etc/llmcaller/env"
    _assert_runs_something_real(shlex.split(service["ExecStart"]))


def test_the_compose_file_parses_and_shares_postgres_and_redis():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]

    assert {"gateway", "migrate", "probes", "rollups", "postgres", "redis"} <= set(services)
    for name in ("gateway", "migrate", "probes", "rollups"):
        _assert_runs_something_real(services[name]["command"])
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith("redis://") and "@postgres:" in env["DATABASE_URL"]
        assert env["LLMCALLER_PROFILE"] == "production"
        assert set(env) - _documented() == set(), "undocumented variables"
    assert int(services["gateway"]["environment"]["LLMCALLER_WORKERS"]) > 1
    assert "noeviction" in services["redis"]["command"]
