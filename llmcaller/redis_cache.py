"""Django's Redis cache backend, with one redis-py client per connection pool.

Django's `RedisCacheClient` builds a new `redis.Redis` around its pool for every
cache call, and each one fills a table of about 170 response callbacks: ~130 µs
of CPU, more than the round trip to Redis itself. A call through the gateway
makes two or more cache calls (its token, the providers' breakers), so this
backend keeps the client of each pool; redis-py clients are thread-safe over
their pool. Everything else is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class _PooledClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _PooledClient
