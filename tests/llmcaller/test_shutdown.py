"""Nothing lost across a graceful shutdown: the gateway as deployed (two uvicorn
workers in their own processes, a database file) stops while calls are in
flight, and every answered call has its record, no more and no less."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.llmcaller.helpers import chat_body
from tests.sandbox import BASE_DIR, closed_port_url

CALLS = 120


@pytest.fixture
def deployed_gateway(tmp_path: Path, upstream):
    database = tmp_path / "gateway.sqlite3"
    port = closed_port_url().rsplit(":", 1)[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LLMCALLER_PORT": port,
           "LLMCALLER_ALLOW_UNSHARED_WORKERS": "true",  # shutdown, not limits, is tested
           "LLMCALLER_WORKERS": "2", "LLMCALLER_LOG_LEVEL": "WARNING"}  # fmt: skip
    manage = [sys.executable, "manage.py"]
    for command in (
        ["migrate", "-v0"],
        ["add_provider", "sandbox", "--kind", "lmstudio", "--base-url", upstream.url],
    ):
        subprocess.run([*manage, *command], env=env, cwd=BASE_DIR, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    token = subprocess.run(
        [*manage, "issue_token", "shutdown-test", "--create", "--methods", "chat"],
        env=env, cwd=BASE_DIR, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    server = subprocess.Popen([sys.executable, "-m", "llmcaller.serve"], env=env, cwd=BASE_DIR)
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url)
    yield url, token, server, database
    if server.poll() is None:
        server.kill()


def test_every_answered_call_has_its_record_after_a_graceful_shutdown(deployed_gateway, upstream):
    url, token, server, database = deployed_gateway
    upstream.set(latency_ms=300)  # so calls are still in flight when the stop comes

    def call(_: int) -> int | None:
        try:
            return httpx.post(
                f"{url}/mcp/chat",
                json=chat_body(),
                headers={"x-llm-caller-token": token},
                timeout=20,
            ).status_code
        except httpx.HTTPError:
            return None  # refused once the server stopped listening: never answered  # fmt: skip

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = pool.map(call, range(CALLS))
        # The stop comes once calls are at the upstream, however slowly a busy
        # machine brought the workers up: a fixed sleep raced their first calls.
        _wait_for_upstream_calls(upstream, at_least=8)
        server.send_signal(signal.SIGTERM)
        statuses = list(results)
    assert server.wait(timeout=30) == 0

    answered = sum(1 for status in statuses if status == 200)
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT count(*) FROM audit_callrecord WHERE outcome = 'success'")
        (records,) = stored.fetchone()
    assert answered > 0, Counter(statuses)
    assert records == answered


def _wait_for_upstream_calls(upstream, at_least: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        paths = upstream.requests()
        if sum(n for path, n in paths.items() if path.endswith("/chat/completions")) >= at_least:
            return
        time.sleep(0.02)
    raise AssertionError(f"no calls reached the upstream: {upstream.requests()}")


def _wait_until_up(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/livez", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the gateway did not start")
