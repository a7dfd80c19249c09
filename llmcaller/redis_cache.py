"""Django's Redis cache backend, with one redis-py client per connection pool.

Django's `RedisCacheClient` builds a new `redis.Redis` around its pool for every
cache call, and each one fills a table of about 170 response callbacks: ~130 µs
of CPU, more than the round trip to Redis itself. A call through the gateway
makes two or more cache calls (its token, the providers' breakers), so this
backend keeps the client of each pool; redis-py clients are thread-safe over
their pool.

`incr` is one atomic script instead of Django's EXISTS then INCRBY: one round
trip instead of two for every rate-limit and budget count, and a key that
expires between the two can no longer come back as a counter without a TTL.
Every Redis error is counted (`llmcaller_cache_errors_total`, by operation)
before it goes on to the caller. Everything else is Django's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.cache.backends import redis as django_redis
from redis.exceptions import RedisError

from llmcaller.metrics import CACHE_ERRORS

# The cache operations whose Redis errors are counted.
COUNTED_OPERATIONS = (
    "add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many",
    "delete_many",
)  # fmt: skip

# INCRBY only a key that exists, as Django's incr() promises (ValueError otherwise).
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class _PooledClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_existing: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        if self._incr_existing is None:
            self._incr_existing = client.register_script(_INCR_EXISTING)
        value = self._incr_existing(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


def _counting_errors(operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
    errors = CACHE_ERRORS.labels(operation)

    @functools.wraps(method)
    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except RedisError:
            errors.inc()
            raise

    return counted


class _CountingClient(_PooledClient):
    """`_PooledClient` whose operations count their Redis errors."""


for _operation in COUNTED_OPERATIONS:
    setattr(
        _CountingClient,
        _operation,
        _counting_errors(_operation, getattr(_PooledClient, _operation)),
    )


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _CountingClient
