"""Two gateway server processes sharing one database swap versions together.

Each server is its own `python -m llmcaller.serve` process; the configuration is
written by a third process (`manage.py shell`), as an operator's and a
reviewer's admin requests would be, through the same services. The database is
a fresh SQLite file, or, when DATABASE_URL names PostgreSQL (as in CI), a
scratch database on that server; REDIS_URL, when set, is passed on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.llmcaller.helpers import CHAT_MODEL, chat_body
from tests.sandbox import BASE_DIR, closed_port_url

SCRATCH_DATABASE = "llmcaller_config_workers"

SEED = f"""
from django.apps import apps
from django.contrib.auth.models import User
from audit.roles import QA_GROUP, ensure_roles
from llmcaller.models import Client
from llmcaller.tokens import issue_token
from providers.models import Model, Provider
from routing.models import CapabilityScore, FallbackChain, FallbackStep
from routing.versions import routing_version
down = Provider.objects.create(key="down", name="down", kind="lmstudio", base_url="{{down}}",
                               retry_attempts=0, capabilities=["chat"])
CapabilityScore.objects.create(model=Model.objects.create(provider=down, model_id="{CHAT_MODEL}",
    capabilities=["chat"], loaded=True), capability="chat", is_default=True)
for key, url in (("alpha", "{{alpha}}"), ("beta", "{{beta}}")):
    p = Provider.objects.create(key=key, name=key, kind="lmstudio", base_url=url, retry_attempts=0,
                                capabilities=["chat"])
    Model.objects.create(provider=p, model_id="{CHAT_MODEL}", capabilities=["chat"], loaded=True)
chain = FallbackChain.objects.create(name="chat-safety", capability="chat", is_default=True)
FallbackStep.objects.create(chain=chain, model=Model.objects.get(provider__key="alpha"))
User.objects.create_superuser("olivia", password="pw")
quinn = User.objects.create_user("quinn", password="pw", is_staff=True)
quinn.groups.add(ensure_roles(apps)[QA_GROUP])
routing_version()
client = Client.objects.create(tool_id="tests", name="tests", allowed_methods=["chat"])
print(issue_token(client=client).raw)
"""

EDIT_AND_PUBLISH = """
from providers.models import Model
from routing.models import FallbackStep
from routing.versions import publish_working_copy
step = FallbackStep.objects.get(chain__name="chat-safety")
step.model = Model.objects.get(provider__key="beta")
step.save()
print(publish_working_copy(author="olivia", source="admin").number)
"""

APPROVE = """
from django.contrib.auth.models import User
from routing.models import ConfigVersion
from routing.versions import review_version
version = ConfigVersion.objects.get(status="pending")
review_version(version=version, reviewer=User.objects.get(username="quinn"), decision="approve")
"""


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    server = os.environ.get("DATABASE_URL", "")
    postgres = server.startswith("postgres")
    if postgres:
        database = urlunsplit(urlsplit(server)._replace(path=f"/{SCRATCH_DATABASE}"))
        _on_server(server, f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")
        _on_server(server, f"CREATE DATABASE {SCRATCH_DATABASE}")
    else:
        database = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    env = {
        **os.environ, "DATABASE_URL": database, "LLMCALLER_CONFIG_REVIEW": "required",
        "ROUTING_BREAKER_FAILURES": "1000000000", "LLMCALLER_WORKERS": "1",
        "LLMCALLER_LOG_FILE": str(tmp_path / "gateway.log"),
    }  # fmt: skip
    _manage(env, "migrate", "--noinput")
    yield env
    if postgres:
        _on_server(server, f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)")


def _on_server(url: str, statement: str) -> None:
    import psycopg

    server = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(statement)


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=BASE_DIR, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _shell(env: dict[str, str], code: str) -> str:
    return _manage(env, "shell", "-c", code).strip().splitlines()[-1] if code else ""


@pytest.fixture
def servers(environment: dict[str, str]) -> Iterator[list[str]]:
    urls, processes = [], []
    try:
        for _ in range(2):
            url = closed_port_url()
            env = environment | {"LLMCALLER_PORT": url.rsplit(":", 1)[1]}
            processes.append(subprocess.Popen([sys.executable, "-m", "llmcaller.serve"], env=env,
                                              cwd=BASE_DIR, stderr=subprocess.DEVNULL))  # fmt: skip
            urls.append(url)
        for url in urls:
            _wait_for(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"The gateway at {url} did not start.")


def _routes(urls: list[str], token: str) -> set[tuple[str, int]]:
    """Who answers on each server, and by which version (one call each)."""
    answers = set()
    for url in urls:
        body = httpx.post(f"{url}/mcp/chat", json=chat_body(), timeout=10,
                          headers={"x-llm-caller-token": token}).json()  # fmt: skip
        info = body["providerInfo"]
        answers.add((info["name"], info["routing"]["configVersion"]))
    return answers


def test_both_workers_route_by_the_new_version_once_it_is_approved_and_not_before(
    environment, servers, upstream, secondary_upstream, down_url
):
    seed = SEED.replace("{down}", down_url).replace("{alpha}", upstream.url)
    token = _shell(environment, seed.replace("{beta}", secondary_upstream.url))
    assert _routes(servers, token) == {("alpha", 1)}

    pending = int(_shell(environment, EDIT_AND_PUBLISH))
    time.sleep(1.5)  # past every worker's check interval: a pending version must not count
    assert _routes(servers, token) == {("alpha", 1)}

    _shell(environment, APPROVE)
    deadline = time.monotonic() + 5  # workers check once a second
    answers = _routes(servers, token)
    while answers != {("beta", pending)} and time.monotonic() < deadline:
        time.sleep(0.1)
        answers = _routes(servers, token)
    assert answers == {("beta", pending)}
