"""The Redis cache backend: Django's, keeping one redis-py client per pool."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from llmcaller.redis_cache import RedisCache

REDIS_URL = os.environ.get("REDIS_URL")

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set (CI runs the suite again with Redis)"
)


@pytest.fixture
def redis_cache():
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-redis-cache"})
    yield backend
    backend.clear()


def test_values_round_trip_and_calls_share_one_client(redis_cache):
    redis_cache.set("answer", {"tokens": 42}, 30)

    assert redis_cache.get("answer") == {"tokens": 42}
    client = redis_cache._cache.get_client
    assert client(write=False) is client(write=False)


def test_threads_share_the_client_safely(redis_cache):
    for n in range(50):
        redis_cache.set(f"key-{n}", n, 30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        values = list(pool.map(lambda n: redis_cache.get(f"key-{n}"), range(50)))

    assert values == list(range(50))
