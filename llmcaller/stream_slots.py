"""Concurrent-stream caps: each open stream holds a slot of its own, which expires.

A client capped at N streams has N slot keys in the control cache,
`llmcaller:stream:<client>:<i>`. Opening a stream claims a free one with
`cache.add` (atomic in Redis and in local memory) for LLMCALLER_STREAM_SLOT_TTL
seconds. It looks for one a page of SLOT_PAGE keys at a time (one `get_many`, a
single MGET in Redis), from a random slot on: reading all N keys at every
opening cost a client capped at 1,000 streams 3.7 ms of the event loop per
stream, which the worker's other streams waited for; a page finds a free slot
at once unless nearly all are held, and a client at its cap still has all N
read before it is refused. While the stream runs it renews its slot, at most
once a third of that time, so a stream held open for hours still counts, while
the slot of a worker that died frees itself one TTL later. Releasing deletes the
slot if it is still this stream's. (One counter with a TTL set at its creation,
as before, expired under streams that were still open, and the cap stopped
holding.)

With the cache down, streams are not counted (fail open, as rate limits are):
see docs/DEPLOYMENT.md. The cache is injectable for tests, and so is the clock
renewals are timed by (by default `audit.clock`, which tests set).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import BaseCache, cache

from audit import clock as wall_clock
from llmcaller.auth import CallerClient
from llmcaller.errors import RateLimited
from llmcaller.metrics import STREAMS_REJECTED

SLOT_KEY = "llmcaller:stream:{}:{}"
SLOT_PAGE = 32
STREAM_RETRY_AFTER = 1.0


class StreamSlot:
    """One open stream's claim; `keep()` on its events, `release()` (idempotent) at its end."""

    def __init__(
        self,
        key: str | None,
        owner: str = "",
        *,
        store: BaseCache | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.key, self.owner = key, owner
        self.store = store if store is not None else cache
        self.clock = clock if clock is not None else wall_clock.time
        self.ttl = settings.LLMCALLER_STREAM_SLOT_TTL
        self.renewed = self.clock()

    def keep(self) -> None:
        """Renew the slot when a third of its time has passed."""
        if self.key is None or self.clock() - self.renewed < self.ttl / 3:
            return
        self.renewed = self.clock()
        try:
            if not self.store.touch(self.key, self.ttl):
                self.store.add(self.key, self.owner, self.ttl)  # it lapsed: take it back
        except ConnectionError:
            pass

    def release(self) -> None:
        key, self.key = self.key, None
        if key is None:
            return
        try:
            if self.store.get(key) == self.owner:  # not a slot someone took after ours lapsed
                self.store.delete(key)
        except ConnectionError:
            pass  # it frees itself when its TTL runs out


def acquire_stream_slot(
    client: CallerClient,
    *,
    store: BaseCache | None = None,
    clock: Callable[[], float] | None = None,
) -> StreamSlot:
    limit = client.max_concurrent_streams
    if not limit:
        return StreamSlot(None)
    store = store if store is not None else cache
    owner = uuid.uuid4().hex
    start = random.randrange(limit)  # streams opening at once mostly try different pages
    try:
        for page in range(0, limit, SLOT_PAGE):
            keys = [SLOT_KEY.format(client.id, (start + index) % limit)
                    for index in range(page, min(page + SLOT_PAGE, limit))]  # fmt: skip
            held = store.get_many(keys)
            for key in keys:
                if key not in held and store.add(key, owner, settings.LLMCALLER_STREAM_SLOT_TTL):
                    return StreamSlot(key, owner, store=store, clock=clock)
    except ConnectionError:
        return StreamSlot(None)  # fail open while the cache is down
    STREAMS_REJECTED.inc()
    raise RateLimited(
        f"This client already has {limit} streams open.", retry_after=STREAM_RETRY_AFTER
    )
