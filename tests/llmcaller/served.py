"""The gateway as deployed, for tests about its processes: `python -m llmcaller.serve`
with its workers, a database file of its own, a provider on the sandbox upstream
and a client token, all made through the management commands an operator uses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.sandbox import BASE_DIR, closed_port_url


@dataclass
class ServedGateway:
    url: str
    token: str
    server: subprocess.Popen | None
    database: Path
    env: dict[str, str]

    def manage(self, *command: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *command], env=self.env, cwd=BASE_DIR, check=True,
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip


@contextmanager
def served_gateway(
    tmp_path: Path,
    upstream_url: str,
    client: str,
    *,
    workers: int = 2,
    methods: str = "chat",
    **env: str,
) -> Iterator[ServedGateway]:
    database = tmp_path / "gateway.sqlite3"
    port = closed_port_url().rsplit(":", 1)[1]
    full_env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LLMCALLER_PORT": port,
                "LLMCALLER_WORKERS": str(workers), "LLMCALLER_LOG_LEVEL": "WARNING",
                **env}  # fmt: skip
    gateway = ServedGateway(f"http://127.0.0.1:{port}", "", None, database, full_env)
    gateway.manage("migrate", "-v0")
    gateway.manage("add_provider", "sandbox", "--kind", "lmstudio", "--base-url", upstream_url)
    gateway.token = gateway.manage("issue_token", client, "--create", "--methods", methods)
    gateway.server = subprocess.Popen(
        [sys.executable, "-m", "llmcaller.serve"], env=full_env, cwd=BASE_DIR
    )
    try:
        wait_until_up(gateway.url, seconds=90)  # several workers start slowly on a busy machine
        yield gateway
    finally:
        if gateway.server.poll() is None:
            gateway.server.terminate()
            try:
                gateway.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gateway.server.kill()


def wait_until_up(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/livez", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"the gateway at {url} did not start")
