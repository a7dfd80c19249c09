"""The gateway as deployed for MCP: a database file, a sandbox provider, two
client tokens (one may call every tool, one may not embed), and two gateway
worker processes on their own ports sharing that database, as two hosts behind
a load balancer would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.llmcaller.served import wait_until_up
from tests.sandbox import BASE_DIR, SandboxUpstream, closed_port_url

EVERY_METHOD = "chat,chatStream,embed,models,getHealth,explainRoute"
NO_EMBED = "chat,models,getHealth,explainRoute"


@dataclass(frozen=True)
class Deployment:
    env: dict[str, str]
    database: Path
    token: str  # may call every tool
    no_embed_token: str  # may call every tool but embed

    def issue_token(self, client: str, methods: str) -> str:
        return manage(self.env, "issue_token", client, "--create", "--methods", methods)

    def records(self, caller_tool: str) -> list[tuple[str, str, str, str]]:
        """(door, method, outcome, client) of the calls a tool made, oldest first."""
        with sqlite3.connect(self.database) as db:
            return db.execute(
                "SELECT door, method, outcome, client_name FROM audit_callrecord"
                " WHERE caller_tool = ? ORDER BY id",
                (caller_tool,),
            ).fetchall()


def manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *command], env=env, cwd=BASE_DIR,
                          check=True, capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip()


# One deployment per module: starting processes is slow, and no test here
# changes what the others rely on (each reads only its own client's records).
@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxUpstream) -> Deployment:
    database = tmp_path_factory.mktemp("mcp") / "gateway.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LLMCALLER_LOG_LEVEL": "WARNING"}
    manage(env, "migrate", "-v0")
    manage(env, "add_provider", "sandbox", "--kind", "lmstudio", "--base-url", sandbox.url)
    token = manage(env, "issue_token", "mcp-agent", "--create", "--methods", EVERY_METHOD)
    no_embed = manage(env, "issue_token", "mcp-chat-only", "--create", "--methods", NO_EMBED)
    return Deployment(env, database, token, no_embed)


@pytest.fixture(scope="module")
def workers(deployment: Deployment) -> Iterator[list[str]]:
    """Two single-worker gateway processes, each on its own port."""
    urls, processes = [], []
    try:
        for _ in range(2):
            port = closed_port_url().rsplit(":", 1)[1]
            env = {**deployment.env, "LLMCALLER_PORT": port, "LLMCALLER_WORKERS": "1"}
            command = [sys.executable, "-m", "llmcaller.serve"]
            processes.append(subprocess.Popen(command, env=env, cwd=BASE_DIR))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until_up(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
