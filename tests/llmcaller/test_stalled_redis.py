"""A stalled Redis does not stall the gateway. With a redis-server of the test's
own paused (SIGSTOP) under load, calls still answer, degraded as documented
(counters and circuits fail open, token look-ups go to the database), and
/livez answers throughout; once it resumes, the shared counters count again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from llmcaller.models import Client
from tests.gateway import running_gateway
from tests.llmcaller.helpers import chat_body
from tests.sandbox import closed_port_url

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)
CALLS = 48


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen]]:
    """A redis-server on a free port, never the shared one: this test pauses it."""
    port = closed_port_url().rsplit(":", 1)[1]
    server = subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url, socket_timeout=1)
    for _ in range(200):
        try:
            probe.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    yield url, server
    server.send_signal(signal.SIGCONT)
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def redis_caches(own_redis, settings) -> redis.Redis:
    url, _ = own_redis
    options = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, "retry_after": 1.0}
    settings.CACHES = {
        alias: {"BACKEND": "llmcaller.redis_cache.RedisCache", "LOCATION": url,
                "KEY_PREFIX": f"stall:{alias}", "OPTIONS": options}
        for alias in ("default", "tokens", "responses")
    }  # fmt: skip
    return redis.Redis.from_url(url, socket_timeout=1)


def _rate_count(raw: redis.Redis) -> int:
    keys = raw.keys("stall:default:*llmcaller:rate:*")
    return sum(int(raw.get(key)) for key in keys)


def test_calls_and_livez_answer_while_redis_is_paused_and_count_again_after(
    own_redis, redis_caches, provider, token
):
    _, server = own_redis
    Client.objects.filter(tool_id="tests").update(requests_per_minute=100_000)
    headers = {"x-llm-caller-token": token}

    with running_gateway() as url, httpx.Client(base_url=url, timeout=20, trust_env=False) as http:

        def call(_: int) -> int:
            return http.post("/mcp/chat", json=chat_body(), headers=headers).status_code

        assert call(0) == 200
        assert _rate_count(redis_caches) == 1
        os.kill(server.pid, signal.SIGSTOP)
        with ThreadPoolExecutor(max_workers=8) as pool:
            calls = pool.map(call, range(CALLS))
            livez = [http.get("/livez", timeout=5).status_code for _ in range(20)]
            during = list(calls)
        health = http.get("/health", headers=headers).json()
        os.kill(server.pid, signal.SIGCONT)
        after = [call(0) for _ in range(3)]
        while _rate_count(redis_caches) < 2:  # the retry pause (1 s) may still be running
            assert call(0) == 200

    assert set(during) == {200}  # degraded, not down
    assert set(livez) == {200}
    cache = next(c for c in health["components"] if c["name"] == "cache")
    assert cache["status"] == "failed"
    assert set(after) == {200}
    assert _rate_count(redis_caches) >= 2  # counting in Redis again
