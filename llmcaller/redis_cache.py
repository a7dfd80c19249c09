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
before it goes on to the caller.
A stalled or lost Redis must not stall the worker: the hot path calls the cache
on its event loop. Connections have connect and read timeouts (REDIS_CONNECT_TIMEOUT,
REDIS_TIMEOUT), and once a call has failed on the network, every call in the next
REDIS_RETRY_SECONDS fails at once without touching a socket, so at most one call
per pause waits out a timeout. Every failure surfaces as `CacheUnavailable`, a
builtin `ConnectionError`, so each caller, in any app, degrades as its kind of
state needs (docs/DEPLOYMENT.md says how) without importing redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache.backends import redis as django_redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from llmcaller.metrics import CACHE_ERRORS

logger = logging.getLogger("llmcaller.cache")

# INCRBY only a key that exists, as Django's incr() promises (ValueError otherwise).
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""
# The same for several keys in one round trip; keys that do not exist stay absent.
_INCR_EXISTING_MANY = """
for i, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then
        redis.call('INCRBY', key, ARGV[i])
    end
end
return true
"""


class _PooledClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_existing: Any = None
        self._incr_existing_many: Any = None

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

    def incr_existing_many(self, deltas: dict[Any, int]) -> None:
        client = self.get_client(write=True)
        if self._incr_existing_many is None:
            self._incr_existing_many = client.register_script(_INCR_EXISTING_MANY)
        self._incr_existing_many(keys=list(deltas), args=list(deltas.values()), client=client)


class CacheUnavailable(ConnectionError):
    """The cache did not answer (or is paused after failing to): degrade."""


class _Outage:
    """When the network last failed us, and for how long to stop asking."""

    def __init__(self, pause: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.pause = pause
        self.clock = clock
        self.until = float("-inf")

    def check(self) -> None:
        if self.clock() < self.until:
            raise CacheUnavailable("the cache failed moments ago; not asking again yet")

    def failed(self) -> None:
        if self.clock() >= self.until:
            logger.warning("The cache did not answer; failing fast for %.1f s", self.pause)
        self.until = self.clock() + self.pause


# One per server, for the whole process: Django builds a backend per thread and
# per async context, and each of them must not wait out the timeout anew.
_outages: dict[str, _Outage] = {}


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = dict(params)
        options = dict(params.pop("OPTIONS", {}) or {})
        pause = float(options.pop("retry_after", 2.0))
        self.outage = _outages.setdefault(server, _Outage(pause))
        self.outage.pause = pause
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _PooledClient

    def incr_existing_many(self, deltas: dict[Any, int], version: int | None = None) -> None:
        """Add to each counter that exists, in one round trip (`count_usage`)."""
        keys = {self.make_and_validate_key(key, version=version): n for key, n in deltas.items()}
        if keys:
            self._cache.incr_existing_many(keys)


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    errors = CACHE_ERRORS.labels(method.__name__)  # counted by operation

    @wraps(method)
    def guarded(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        self.outage.check()
        try:
            return method(self, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            errors.inc()
            self.outage.failed()
            raise CacheUnavailable("the cache did not answer in time") from exc
        except RedisError as exc:  # e.g. out of memory under noeviction: this call only
            errors.inc()
            raise CacheUnavailable("the cache refused the command") from exc

    return guarded


for _name in (
    "add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many",
    "delete_many", "clear", "incr_existing_many",
):  # fmt: skip
    setattr(RedisCache, _name, _guarded(getattr(RedisCache, _name)))
