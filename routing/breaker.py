"""A circuit breaker per provider, its state shared by every worker through the cache.

    closed     calls go through; each failure counts, a success clears the count
    open       after ROUTING_BREAKER_FAILURES consecutive failures: no calls for
               ROUTING_BREAKER_COOLDOWN_SECONDS
    half-open  after the cool-down: exactly one worker wins the trial call
               (`cache.add`, atomic in Redis and in the local-memory cache);
               its success closes the circuit, its failure opens it again

Only the trial closes a circuit: a success of a call admitted while the circuit
was closed clears the failure count and nothing else, so a call that began
before the circuit opened cannot close it by succeeding late.

Keys are per provider: a failure counter (`cache.incr`, atomic), the time the
circuit opened (wall-clock seconds, comparable across hosts), and the trial
claims. A claim holds for the longest a call may run (`ROUTING_CALL_DEADLINE_SECONDS`
and a margin), so a slow trial is never joined by a second; after that it has
lapsed (its worker died mid-trial) and the next claim may be taken. Claims are
counted on the breaker's clock, not by cache expiry: the key of a claim names
its period (the circuit's opening and the claim period since the cool-down
ended), so each period has exactly one `cache.add` winner. The clock is
`audit.clock` unless one is injected; tests set it.

A call reads every provider's breaker once, before planning (`read`): with
Redis each cache operation is a network round trip on the event loop, so the
call then skips `allow` and `record_success` for the providers that reading
found closed with no failure counted (nearly every call to a healthy provider).
The reading itself is kept in this process for LLMCALLER_MEMO_SECONDS
(`routing.memo`): every change this process makes drops it, so its own failures
and trials show at once; another worker's opened circuit shows within that
time, and a success here may leave another worker's failure count uncleared
for as long (a circuit may then open after fewer consecutive failures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import BaseCache, cache

from audit import clock as wall
from routing import memo as memos
from routing.memo import Memo
from routing.metrics import circuit_changed, observe_circuits
from routing.types import CircuitState

_PREFIX = "routing:breaker"
TRIAL_MARGIN = 5.0  # seconds a trial claim outlasts the call deadline: hosts' clocks differ


@dataclass
class BreakerReading:
    """What one call read of the breakers: each provider's state, and which were
    closed with no failure counted (nothing for a success to clear)."""

    states: dict[str, CircuitState]
    clean: set[str] = field(default_factory=set)

    def is_clean(self, provider: str) -> bool:
        return provider in self.clean

    def failed(self, provider: str) -> None:
        self.clean.discard(provider)


class CircuitBreaker:
    def __init__(
        self,
        *,
        store: BaseCache | None = None,
        failures: int | None = None,
        cooldown: float | None = None,
        clock: Callable[[], float] | None = None,
        trial_seconds: float | None = None,
        memo: Memo | None = None,
    ) -> None:
        self.cache = store if store is not None else cache
        # The process's memo goes with the process's cache; another store, its own.
        self.memo = memo if memo is not None else (memos.breakers if store is None else Memo(0))
        self.threshold = failures or settings.ROUTING_BREAKER_FAILURES
        self.cooldown = cooldown or settings.ROUTING_BREAKER_COOLDOWN_SECONDS
        self.trial_seconds = trial_seconds or settings.ROUTING_CALL_DEADLINE_SECONDS + TRIAL_MARGIN
        self.clock = clock or (lambda: wall.time())  # read when called: tests set it

    def read(self, providers: Iterable[str]) -> BreakerReading:
        """Every provider's state and failure count, in one cache round trip."""
        providers = list(providers)
        memo_key = tuple(providers)
        values = self.memo.get(memo_key)
        if values is None:
            generation = self.memo.generation
            values = self.cache.get_many(
                [_key(p, name) for p in providers for name in ("opened", "failures")]
            )
            self.memo.put(memo_key, values, generation)
        reading = BreakerReading({})
        for provider in providers:
            opened = values.get(_key(provider, "opened"))
            reading.states[provider] = self._state(opened)
            if opened is None and not values.get(_key(provider, "failures")):
                reading.clean.add(provider)
        observe_circuits(reading.states)
        return reading

    def states(self, providers: Iterable[str]) -> dict[str, CircuitState]:
        """The state of each provider, in one cache round trip: the planner's input."""
        return self.read(providers).states

    def state(self, provider: str) -> CircuitState:
        return self._state(self.cache.get(_key(provider, "opened")))

    def allow(self, provider: str) -> bool:
        """Whether this worker may call the provider now; in half-open, only
        the one worker that claims the trial gets True."""
        return self.admit(provider) is not None

    def admit(self, provider: str) -> CircuitState | None:
        """None: do not call. CLOSED: call. HALF_OPEN: call, as the one trial:
        report its success with `record_success(provider, trial=True)`."""
        opened = self.cache.get(_key(provider, "opened"))
        state = self._state(opened)
        if state is CircuitState.CLOSED:
            return state
        if state is CircuitState.OPEN:
            return None
        period = int((self.clock() - opened - self.cooldown) // self.trial_seconds)
        claim = _key(provider, f"trial:{opened!r}:{period}")
        # The cache's own expiry only tidies: the period in the key decides.
        won = self.cache.add(claim, 1, timeout=self.trial_seconds + self.cooldown)
        return state if won else None

    def record_success(self, provider: str, *, trial: bool = False) -> None:
        """A call succeeded: a trial closes the circuit; any other success only
        clears the failure count (the circuit may have opened since it began)."""
        names = ("failures", "opened") if trial else ("failures",)
        self.cache.delete_many([_key(provider, name) for name in names])
        self.memo.clear()  # after the write: a reading on its way is not kept
        if trial:
            circuit_changed(provider, CircuitState.CLOSED)

    def record_failure(self, provider: str) -> CircuitState:
        try:
            return self._count_failure(provider)
        finally:
            self.memo.clear()  # after the writes: this process sees them at once

    def _count_failure(self, provider: str) -> CircuitState:
        if self.state(provider) is CircuitState.HALF_OPEN:
            return self._open(provider)  # the trial failed
        failures_key = _key(provider, "failures")
        self.cache.add(failures_key, 0, timeout=None)
        try:
            failures = self.cache.incr(failures_key)
        except ValueError:  # expired or evicted between add and incr
            self.cache.set(failures_key, 1, timeout=None)
            failures = 1
        if failures >= self.threshold:
            # add: when two workers see the Nth failure, the first one's time stands
            if self.cache.add(_key(provider, "opened"), self.clock(), timeout=None):
                circuit_changed(provider, CircuitState.OPEN)
            return self.state(provider)
        return CircuitState.CLOSED

    def _open(self, provider: str) -> CircuitState:
        # A new opening time: the next trial's claim has a key of its own.
        self.cache.set(_key(provider, "opened"), self.clock(), timeout=None)
        circuit_changed(provider, CircuitState.OPEN)
        return CircuitState.OPEN

    def _state(self, opened_at: float | None) -> CircuitState:
        if opened_at is None:
            return CircuitState.CLOSED
        if self.clock() - opened_at < self.cooldown:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN


def _key(provider: str, name: str) -> str:
    return f"{_PREFIX}:{provider}:{name}"
