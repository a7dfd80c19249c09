"""Readings of shared state, kept in this process for a moment (LLMCALLER_MEMO_SECONDS).

With Redis every token look-up and every reading of the providers' breakers is
a network round trip on the worker's event loop, two per call. A reading kept
for a second saves both on all but the first call of each second. What it
costs is how late a change made elsewhere is seen:

- what this process changes itself, it sees at once: whoever writes drops the
  memo (`drop`, `clear`) before the next reading, and a reading that was on
  its way while a write happened is not kept (`generation`);
- what another process or host changes is seen within the memo's seconds.

`llmcaller.auth` keeps token look-ups here (never a miss: random tokens would
fill it), `routing.breaker` its readings of the breakers. The clock is
monotonic unless one is injected; tests inject it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings

MAX_ENTRIES = 10_000  # then it starts again empty: one round trip more per key


class Memo:
    def __init__(
        self, seconds: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds  # None: LLMCALLER_MEMO_SECONDS, read when used
        self.clock = clock
        self.generation = 0  # moves on with every drop or clear
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    @property
    def seconds(self) -> float:
        return settings.LLMCALLER_MEMO_SECONDS if self._seconds is None else self._seconds

    def get(self, key: Hashable) -> Any:
        """The value kept for `key`, or None (nothing kept, or kept too long)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        age = self.clock() - entry[0]
        return entry[1] if 0 <= age < self.seconds else None

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        """Keep `value`, read when `generation` was current: not if anything was
        dropped since, for the value may be older than the drop."""
        if generation != self.generation or self.seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (self.clock(), value)

    def drop(self, *keys: Hashable) -> None:
        self.generation += 1
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


# This process's memos, one per kind of reading.
tokens = Memo()
breakers = Memo()
