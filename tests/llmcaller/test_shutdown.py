"""Nothing lost across a graceful shutdown: the gateway as deployed (two uvicorn
workers in their own processes, a database file) stops while calls are in
flight, and every answered call has its record, no more and no less."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.llmcaller.helpers import chat_body
from tests.llmcaller.served import served_gateway

CALLS = 120


@pytest.fixture
def deployed_gateway(tmp_path: Path, upstream):
    with served_gateway(tmp_path, upstream.url, "shutdown-test") as gateway:
        yield gateway.url, gateway.token, gateway.server, gateway.database


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
