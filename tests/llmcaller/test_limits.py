"""Per-client limits: requests per minute over HTTP, and stream slots (on every door
that streams)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from llmcaller.auth import CallerClient
from llmcaller.errors import RateLimited
from llmcaller.limits import check_rate
from llmcaller.models import Client
from llmcaller.stream_slots import SLOT_KEY, SLOT_PAGE, acquire_stream_slot
from tests.llmcaller.helpers import SlowStreamUpstream, chat_body, running_asgi

# Every test here counts in one fixed-window minute: the wall clock must not move.
pytestmark = pytest.mark.usefixtures("clock")


def test_a_client_over_its_requests_per_minute_gets_429_with_a_clamped_hint(api, provider):
    Client.objects.filter(tool_id="tests").update(requests_per_minute=2)

    statuses = [api.post("/mcp/chat", json=chat_body()).status_code for _ in range(2)]
    refused = api.post("/mcp/chat", json=chat_body())

    assert statuses == [200, 200]
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "RATE_LIMIT"
    assert 0 < body["retryAfterMs"] <= 60000
    assert int(refused.headers["Retry-After"]) == -(-body["retryAfterMs"] // 1000)


def test_a_new_minute_opens_a_new_window_and_the_hint_says_when(clock):
    client = CallerClient(id=905, tool_id="edge", methods=frozenset(), requests_per_minute=1)
    clock.set(datetime(2026, 6, 15, 12, 0, 59, 900_000, tzinfo=UTC))
    check_rate(client)
    with pytest.raises(RateLimited) as refused:
        check_rate(client)

    assert refused.value.retry_after == pytest.approx(0.1, abs=1e-3)
    clock.advance(0.2)  # 12:01:00.1, the next window
    check_rate(client)


def test_clients_are_counted_apart():
    busy = CallerClient(id=901, tool_id="busy", methods=frozenset(), requests_per_minute=1)
    calm = CallerClient(id=902, tool_id="calm", methods=frozenset(), requests_per_minute=1)
    check_rate(busy)

    with pytest.raises(RateLimited):
        check_rate(busy)
    check_rate(calm)


def test_a_released_stream_slot_can_be_taken_again_and_release_is_idempotent():
    client = CallerClient(id=903, tool_id="s", methods=frozenset(), max_concurrent_streams=1)
    slot = acquire_stream_slot(client)
    with pytest.raises(RateLimited):
        acquire_stream_slot(client)

    slot.release()
    slot.release()  # twice: must not free a slot someone else holds

    acquire_stream_slot(client)
    with pytest.raises(RateLimited):
        acquire_stream_slot(client)


def test_no_limit_set_means_no_counting():
    client = CallerClient(id=904, tool_id="free", methods=frozenset())
    for _ in range(100):
        check_rate(client)
        acquire_stream_slot(client)


class _Clock:
    """Injected time for the slot's renewals and the local-memory cache's expiry."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


@pytest.fixture
def slot_clock(monkeypatch) -> _Clock:
    """Time for the slot and for a local-memory store (Redis keeps its own time)."""
    clock = _Clock()
    clock.store = LocMemCache("stream-slots-test", {})
    monkeypatch.setattr("django.core.cache.backends.locmem.time", clock)  # expiry checks
    monkeypatch.setattr("django.core.cache.backends.base.time", clock)  # expiry times set
    return clock


def test_a_stream_held_open_past_the_slot_ttl_still_counts(slot_clock, settings):
    clock = slot_clock
    settings.LLMCALLER_STREAM_SLOT_TTL = 900
    client = CallerClient(id=905, tool_id="long", methods=frozenset(), max_concurrent_streams=1)
    slot = acquire_stream_slot(client, clock=clock, store=clock.store)

    for _ in range(60):  # an hour of streaming, an event a minute
        clock.now += 60
        slot.keep()

    with pytest.raises(RateLimited):
        acquire_stream_slot(client, clock=clock, store=clock.store)
    slot.release()
    acquire_stream_slot(client, clock=clock, store=clock.store)


def test_the_slot_of_a_stream_that_never_ended_frees_itself_after_the_ttl(slot_clock, settings):
    clock = slot_clock
    settings.LLMCALLER_STREAM_SLOT_TTL = 900
    client = CallerClient(id=906, tool_id="lost", methods=frozenset(), max_concurrent_streams=1)
    # Its worker died: the slot is never renewed nor released.
    acquire_stream_slot(client, clock=clock, store=clock.store)

    clock.now += 899
    with pytest.raises(RateLimited):
        acquire_stream_slot(client, clock=clock, store=clock.store)
    clock.now += 2
    acquire_stream_slot(client, clock=clock, store=clock.store)


def test_each_stream_holds_its_own_slot_up_to_the_cap():
    client = CallerClient(id=907, tool_id="wide", methods=frozenset(), max_concurrent_streams=3)
    slots = [acquire_stream_slot(client) for _ in range(3)]
    with pytest.raises(RateLimited):
        acquire_stream_slot(client)

    slots[1].release()

    acquire_stream_slot(client)
    assert len({slot.key for slot in slots}) == 3


class _CountingStore(LocMemCache):
    """A local-memory store that counts the slot keys read."""

    def __init__(self) -> None:
        super().__init__("stream-slots-counted", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
        self.read = 0

    def get_many(self, keys, version=None):
        self.read += len(keys)
        return super().get_many(keys, version=version)


def test_a_wide_cap_is_searched_a_page_at_a_time_and_still_holds():
    """Opening a stream reads one page of slots, not all of a 1,000-stream cap
    (every opening read all 1,000: 3.7 ms of the event loop each); a client at its
    cap has every slot read before it is refused, and a slot freed anywhere is found."""
    store = _CountingStore()
    client = CallerClient(id=908, tool_id="many", methods=frozenset(), max_concurrent_streams=1000)

    slots = [acquire_stream_slot(client, store=store)]
    assert store.read == SLOT_PAGE

    slots += [acquire_stream_slot(client, store=store) for _ in range(999)]
    assert len({slot.key for slot in slots}) == 1000
    store.read = 0
    with pytest.raises(RateLimited):
        acquire_stream_slot(client, store=store)
    assert store.read == 1000

    freed = slots[617].key
    slots[617].release()
    assert acquire_stream_slot(client, store=store).key == freed


STREAMS = {
    "/mcp/chatStream": chat_body(),
    "/v1/chat/completions": {
        "model": "auto", "messages": [{"role": "user", "content": "hi"}], "stream": True,
    },
    "/v1/responses": {"model": "auto", "input": "hi", "stream": True},
}  # fmt: skip


@pytest.mark.parametrize("path", STREAMS)
def test_a_stream_running_past_the_slot_ttl_renews_its_slot_and_still_counts(
    gateway, token, provider, clock, settings, path
):
    client = Client.objects.get(tool_id="tests")
    client.max_concurrent_streams = 1
    client.save()
    slot = SLOT_KEY.format(client.id, 0)
    slow = SlowStreamUpstream(interval=0.02)
    headers = {"x-llm-caller-token": token}
    with (
        running_asgi(slow) as url,
        httpx.Client(base_url=gateway, headers=headers, timeout=10) as api,
    ):
        provider.base_url = url
        provider.save()  # publishes a new active version
        with api.stream("POST", path, json=STREAMS[path]) as held:
            chunks = held.iter_bytes()  # held: a dropped iterator closes the stream
            next(chunks)
            # The stream outlives its slot's TTL: the slot lapses unless it is renewed.
            clock.advance(settings.LLMCALLER_STREAM_SLOT_TTL)
            cache.delete(slot)
            for _ in range(100):  # the stream's next events renew it
                next(chunks)
                if cache.get(slot) is not None:
                    break
            with api.stream("POST", path, json=STREAMS[path]) as second:
                second_status = second.status_code

    assert second_status == 429
