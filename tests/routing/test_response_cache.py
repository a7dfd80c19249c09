"""Response cache keys: only deterministic requests, never across clients or configurations."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from providers.types import ChatMessage, ChatResult, Usage
from routing.response_cache import get_cached_response, response_cache_key, store_response
from routing.types import RouteRequest

CHAT = RouteRequest("chat", (ChatMessage("user", "2+2?"),), max_tokens=5)
EMBED = RouteRequest("embed", inputs=("hello",))


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def key(request: RouteRequest = CHAT, **overrides) -> str | None:
    return response_cache_key(**({"client": "tool-a", "request": request, "config_hash": "h1",
                                  "temperature": 0.0} | overrides))  # fmt: skip


def test_identical_requests_share_a_key():
    assert key() == key() and key() is not None


@pytest.mark.parametrize("temperature", [None, 0.7])
def test_chat_is_cached_only_at_temperature_zero(temperature):
    assert key(temperature=temperature) is None


def test_embeddings_are_cached_whatever_the_temperature():
    assert key(EMBED, temperature=None) is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"client": "tool-b"},
        {"config_hash": "h2"},
        {"request": RouteRequest("chat", (ChatMessage("user", "2+3?"),), max_tokens=5)},
        {"request": RouteRequest("chat", CHAT.messages, max_tokens=5, model="other")},
        {"request": RouteRequest("chatStream", CHAT.messages, max_tokens=5)},
    ],
)
def test_anything_that_could_change_the_answer_changes_the_key(overrides):
    assert key(**overrides) != key()


def test_a_stored_answer_is_found_by_its_client_only():
    answer = ChatResult("m", ChatMessage("assistant", "4"), Usage(3, 1))

    store_response(key(), answer, ttl_seconds=60)

    assert get_cached_response(key()) == answer
    assert get_cached_response(key(client="tool-b")) is None


def test_a_zero_ttl_or_an_uncacheable_request_stores_nothing():
    store_response(key(), "x", ttl_seconds=0)
    store_response(None, "x", ttl_seconds=60)

    assert get_cached_response(key()) is None
    assert get_cached_response(None) is None
