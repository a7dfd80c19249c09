"""The circuit breaker under a controllable clock, shared by two workers through the cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from routing.breaker import CircuitBreaker
from routing.memo import Memo
from routing.types import CircuitState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def workers(clock):
    """Two workers' breakers over the one cache (Redis in CI, local memory here)."""
    cache.clear()
    yield [CircuitBreaker(failures=3, cooldown=30, clock=clock) for _ in range(2)]
    cache.clear()


def test_it_opens_after_n_consecutive_failures_from_any_worker(workers):
    first, second = workers

    first.record_failure("local")
    second.record_failure("local")
    assert first.state("local") is CircuitState.CLOSED
    assert second.record_failure("local") is CircuitState.OPEN

    assert first.allow("local") is False
    assert second.states(["local", "cloud"]) == {
        "local": CircuitState.OPEN,
        "cloud": CircuitState.CLOSED,
    }


def test_a_success_clears_the_count(workers):
    first, _ = workers

    first.record_failure("local")
    first.record_failure("local")
    first.record_success("local")
    first.record_failure("local")

    assert first.state("local") is CircuitState.CLOSED


def test_after_the_cool_down_exactly_one_worker_gets_the_trial(workers, clock):
    first, second = workers
    for _ in range(3):
        first.record_failure("local")

    clock.now += 29.9
    assert first.allow("local") is False
    clock.now += 0.1
    assert first.state("local") is CircuitState.HALF_OPEN
    assert [first.allow("local"), second.allow("local"), first.allow("local")] == [
        True,
        False,
        False,
    ]


def test_a_successful_trial_closes_the_circuit(workers, clock):
    first, second = workers
    for _ in range(3):
        first.record_failure("local")
    clock.now += 30
    assert second.allow("local")

    second.record_success("local", trial=True)

    assert first.state("local") is CircuitState.CLOSED
    assert first.allow("local") and second.allow("local")


def test_a_failed_trial_opens_the_circuit_again_for_a_full_cool_down(workers, clock):
    first, second = workers
    for _ in range(3):
        first.record_failure("local")
    clock.now += 30
    assert second.allow("local")

    assert second.record_failure("local") is CircuitState.OPEN

    clock.now += 29
    assert first.allow("local") is False
    clock.now += 1
    assert first.allow("local") is True  # the next trial, claimable again


def test_a_slow_trial_keeps_its_claim_until_the_call_deadline_then_it_lapses(clock, settings):
    settings.ROUTING_CALL_DEADLINE_SECONDS = 120.0  # a claim then holds 125 s
    cache.clear()
    first, second = (CircuitBreaker(failures=3, cooldown=30, clock=clock) for _ in range(2))
    for _ in range(3):
        first.record_failure("local")
    clock.now += 30
    assert first.allow("local")  # the trial, running long (or its worker died)

    clock.now += 120  # well past the cool-down, still within the call's deadline
    assert second.allow("local") is False

    clock.now += 5  # the longest a call may run has passed: the claim has lapsed
    assert second.allow("local") is True
    assert first.allow("local") is False  # one trial per period still


def test_a_success_that_began_before_the_circuit_opened_does_not_close_it(workers):
    first, second = workers
    assert first.allow("local")  # a slow call starts, the circuit closed
    for _ in range(3):
        second.record_failure("local")  # meanwhile the provider goes down

    first.record_success("local")  # the slow call comes back fine

    assert second.state("local") is CircuitState.OPEN
    assert second.allow("local") is False


def test_only_the_trial_closes_the_circuit(workers, clock):
    first, second = workers
    for _ in range(3):
        first.record_failure("local")
    clock.now += 30
    assert second.admit("local") is CircuitState.HALF_OPEN

    first.record_success("local")  # a call admitted earlier, while closed
    assert first.state("local") is CircuitState.HALF_OPEN

    second.record_success("local", trial=True)
    assert first.state("local") is CircuitState.CLOSED


def test_one_reading_gives_states_and_which_providers_have_nothing_to_clear(workers, clock):
    first, second = workers
    second.record_failure("flaky")
    for _ in range(3):
        second.record_failure("down")

    reading = first.read(["healthy", "flaky", "down"])

    assert reading.states == {
        "healthy": CircuitState.CLOSED,
        "flaky": CircuitState.CLOSED,
        "down": CircuitState.OPEN,
    }
    assert reading.clean == {"healthy"}  # a success on "flaky" must still clear its count


def _memo_worker(clock: FakeClock) -> CircuitBreaker:
    """A worker process's breaker, with the memo of readings that process keeps."""
    return CircuitBreaker(failures=3, cooldown=30, clock=clock, memo=Memo(1.0, clock=clock))


def test_a_circuit_this_process_opens_shows_in_its_next_reading_at_once(workers, clock):
    worker = _memo_worker(clock)
    assert worker.read(["local"]).is_clean("local")

    for _ in range(3):
        worker.record_failure("local")

    reading = worker.read(["local"])  # the clock has not moved: no memo time has passed
    assert reading.states == {"local": CircuitState.OPEN}
    assert not reading.is_clean("local")


def test_a_circuit_another_process_opens_shows_within_the_memo_seconds(workers, clock):
    here, elsewhere = _memo_worker(clock), _memo_worker(clock)
    assert here.read(["local"]).states == {"local": CircuitState.CLOSED}

    for _ in range(3):
        elsewhere.record_failure("local")
    clock.now += 1.0

    assert here.read(["local"]).states == {"local": CircuitState.OPEN}


def test_a_kept_reading_still_ends_the_cool_down_on_time(workers, clock):
    # The memo keeps when the circuit opened, not its state: the state is worked
    # out on each reading, so the half-open trial comes when the cool-down ends.
    worker = CircuitBreaker(failures=3, cooldown=30, clock=clock, memo=Memo(1.0, clock=lambda: 0.0))
    for _ in range(3):
        worker.record_failure("local")
    assert worker.read(["local"]).states == {"local": CircuitState.OPEN}

    clock.now += 30  # the memo's own clock stands still: the reading is still kept

    assert worker.read(["local"]).states == {"local": CircuitState.HALF_OPEN}
