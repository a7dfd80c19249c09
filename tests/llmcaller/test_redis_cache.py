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


def test_incr_counts_an_existing_key_and_keeps_its_expiry(redis_cache):
    redis_cache.add("calls", 0, 30)

    assert [redis_cache.incr("calls", 1), redis_cache.incr("calls", 5)] == [1, 6]
    assert redis_cache.get("calls") == 6
    raw = redis_cache._cache.get_client(write=True)
    assert 0 < raw.ttl(redis_cache.make_and_validate_key("calls")) <= 30


def test_incr_of_a_missing_key_raises_and_creates_nothing(redis_cache):
    with pytest.raises(ValueError):
        redis_cache.incr("never-added", 1)

    assert redis_cache.get("never-added") is None


def test_counters_that_exist_are_raised_together_and_missing_ones_stay_absent(redis_cache):
    redis_cache.add("tokens:day", 100, 30)
    redis_cache.add("tokens:month", 1_000, 30)

    redis_cache.incr_existing_many({"tokens:day": 7, "tokens:month": 7, "tokens:other": 7})

    assert redis_cache.get_many(["tokens:day", "tokens:month", "tokens:other"]) == {
        "tokens:day": 107, "tokens:month": 1_007}  # fmt: skip
