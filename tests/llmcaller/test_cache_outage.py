"""A cache that does not answer: Redis calls fail fast as `CacheUnavailable` (a
ConnectionError), and each kind of state degrades as docs/DEPLOYMENT.md says.
The "Redis" here is a loopback port where nothing listens."""

from __future__ import annotations

import pytest
import redis.connection
from asgiref.sync import async_to_sync
from django.test import RequestFactory

from audit.selectors import budget_status
from llmcaller.auth import CallerClient, authenticate
from llmcaller.errors import Unauthenticated
from llmcaller.limits import check_rate
from llmcaller.redis_cache import CacheUnavailable, RedisCache
from llmcaller.stream_slots import acquire_stream_slot
from llmcaller.tokens import issue_token, revoke_tokens
from routing.response_cache import get_cached_response, store_response
from tests.audit.factories import CallRecordFactory
from tests.factories import ClientFactory
from tests.sandbox import closed_port_url

OPTIONS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, "retry_after": 60}


@pytest.fixture
def lost_redis(settings) -> str:
    url = closed_port_url().replace("http://", "redis://") + "/0"
    settings.CACHES = {
        alias: {"BACKEND": "llmcaller.redis_cache.RedisCache", "LOCATION": url,
                "OPTIONS": OPTIONS}
        for alias in ("default", "tokens", "responses")
    }  # fmt: skip
    return url


def test_a_failed_call_makes_the_next_ones_fail_at_once_without_a_socket(lost_redis, monkeypatch):
    backend = RedisCache(lost_redis, {"OPTIONS": dict(OPTIONS)})
    with pytest.raises(CacheUnavailable) as first:
        backend.get("anything")
    attempts = []
    monkeypatch.setattr(redis.connection.Connection, "connect", lambda self: attempts.append(1))

    for _ in range(100):
        with pytest.raises(ConnectionError):
            backend.incr("counter")

    assert isinstance(first.value, ConnectionError)
    assert attempts == []


def test_rate_limits_and_stream_slots_fail_open(lost_redis):
    client = CallerClient(
        id=1, tool_id="t", methods=frozenset(), requests_per_minute=1, max_concurrent_streams=1
    )

    for _ in range(3):
        check_rate(client)
        acquire_stream_slot(client).release()


def test_the_response_cache_misses_and_stores_nothing(lost_redis):
    store_response("routing:response:k", {"answer": 1}, ttl_seconds=60)

    assert get_cached_response("routing:response:k") is None


@pytest.mark.django_db
def test_token_look_ups_fall_back_to_the_database_and_revocation_holds(lost_redis):
    issued = issue_token(client=ClientFactory(tool_id="outage"))

    def call() -> CallerClient:
        request = RequestFactory().post("/", headers={"x-llm-caller-token": issued.raw})
        return async_to_sync(authenticate)(request, method="chat")

    assert call().tool_id == "outage"
    revoke_tokens(tokens=[issued.token])
    with pytest.raises(Unauthenticated):
        call()


@pytest.mark.django_db
def test_budgets_fail_closed_counting_from_the_database(lost_redis):
    CallRecordFactory(client_id=5, input_tokens=60, output_tokens=40)

    assert budget_status(5, 150, None)[0] is True
    assert budget_status(5, 100, None)[0] is False  # spent, though nothing is cached
