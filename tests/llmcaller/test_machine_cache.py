"""The cache several workers of one machine share without Redis (llmcaller.machine_cache):
Django's cache semantics on the backend's own clock, atomic across processes, bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmcaller import machine_cache
from llmcaller.machine_cache import MachineCache
from tests.sandbox import BASE_DIR


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> MachineCache:
    cache = MachineCache(str(tmp_path / "state" / "control-cache"), {"OPTIONS": {}})
    cache.clock = clock
    return cache


def test_a_counter_is_added_once_and_incremented_in_place(store):
    assert store.add("rate", 0, 60) is True
    assert store.add("rate", 0, 60) is False  # a live entry stays
    assert [store.incr("rate"), store.incr("rate", 5)] == [1, 6]
    assert store.get("rate") == 6


def test_an_expired_entry_is_absent_to_every_operation(store, clock):
    store.add("rate", 0, 60)
    store.incr("rate")
    clock.now += 60

    assert store.get("rate", "gone") == "gone" and not store.has_key("rate")
    assert store.get_many(["rate"]) == {}
    assert store.touch("rate", 60) is False
    with pytest.raises(ValueError):
        store.incr("rate")
    assert store.add("rate", 0, 60) is True  # the next window starts from nothing
    assert store.incr("rate") == 1


def test_values_of_any_kind_come_back_as_they_were_stored(store):
    values = {"opened": 1_700_000_000.25, "client": {"id": 7, "methods": ["chat"]},
              "flag": True, "huge": 2**80, "nothing": None, "text": "slot-owner"}  # fmt: skip
    store.set_many(values, None)

    assert store.get_many([*values, "missing"]) == values
    assert type(store.get("flag")) is bool


def test_timeouts_follow_djangos_rules(store, clock):
    store.set("forever", 1, None)
    store.set("at-once", 1, 0)
    store.set("default", 1)  # Django's default: 300 s
    clock.now += 299
    assert store.get_many(["forever", "at-once", "default"]) == {"forever": 1, "default": 1}
    clock.now += 1
    assert store.get_many(["forever", "default"]) == {"forever": 1}


def test_touch_renews_and_delete_frees(store, clock):
    store.add("slot", "owner", 30)
    clock.now += 20
    assert store.touch("slot", 30) is True
    clock.now += 20
    assert store.get("slot") == "owner"
    assert store.delete("slot") is True and store.delete("slot") is False
    store.set_many({"a": 1, "b": 2})
    store.delete_many(["a", "b"])
    assert store.get_many(["a", "b"]) == {}


def test_expired_entries_are_swept_and_the_file_bounded(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(machine_cache, "SWEEP_EVERY", 10)
    store = MachineCache(str(tmp_path / "tokens-cache"), {"OPTIONS": {"MAX_ENTRIES": 50}})
    store.clock = clock
    for n in range(30):
        store.set(f"short-{n}", n, 5)
    clock.now += 10
    for n in range(200):  # a caller sending random tokens
        store.set(f"miss-{n}", n, 60)
        clock.now += 0.01

    file = machine_cache._file(store.path)
    (count,) = file.db.execute("SELECT count(*) FROM entries").fetchone()
    assert count <= 50 + 10  # at most a sweep's worth of writes past the bound
    assert store.get("miss-199") == 199  # the newest stay, the soonest to expire went


ROUNDS = 3_000


def test_workers_in_other_processes_count_on_the_same_entries(tmp_path):
    """Two processes raise one counter and race for one claim: every increment
    counts, and exactly one process wins the claim."""
    location = tmp_path / "control-cache"
    script = textwrap.dedent(f"""
        import pathlib, sys
        from llmcaller.machine_cache import MachineCache
        store = MachineCache({str(location)!r}, {{"OPTIONS": {{"MAX_ENTRIES": 10_000}}}})
        here = pathlib.Path({str(tmp_path)!r})
        (here / sys.argv[1]).touch()
        while not all((here / name).exists() for name in ("worker-1", "worker-2")):
            pass  # both start counting together
        won = 0
        for n in range(ROUNDS):
            store.add("rate", 0, 600)
            store.incr("rate")
            won += store.add(f"claim-{{n}}", sys.argv[1], 600)
        print(won)
    """).replace("ROUNDS", str(ROUNDS))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, name], cwd=BASE_DIR, stdout=subprocess.PIPE, text=True
        )  # fmt: skip
        for name in ("worker-1", "worker-2")
    ]
    wins = [int(process.communicate(timeout=120)[0]) for process in processes]

    store = MachineCache(str(location), {})
    assert store.get("rate") == 2 * ROUNDS
    assert sum(wins) == ROUNDS, wins  # each claim had one winner


def test_a_file_that_cannot_be_used_reads_as_a_cache_that_does_not_answer(tmp_path):
    """Callers fail open on ConnectionError (rate limits, stream slots) or fall back
    to the database (budgets, tokens), as when Redis does not answer."""
    (tmp_path / "not-a-directory").write_text("")
    store = MachineCache(str(tmp_path / "not-a-directory" / "control-cache"), {})

    with pytest.raises(ConnectionError, match="machine cache"):
        store.add("rate", 0, 60)
    with pytest.raises(ConnectionError):
        store.get_many(["rate"])


def test_counters_that_exist_are_raised_together_and_missing_ones_stay_absent(store, clock):
    store.add("tokens:day", 100, 30)
    store.add("tokens:month", 1_000, 90)
    store.add("tokens:stale", 5, 10)
    clock.now += 20

    store.incr_existing_many({"tokens:day": 7, "tokens:month": 7, "tokens:stale": 7,
                              "tokens:other": 7})  # fmt: skip

    assert store.get_many(["tokens:day", "tokens:month", "tokens:stale", "tokens:other"]) == {
        "tokens:day": 107, "tokens:month": 1_007}  # fmt: skip


def test_a_forked_worker_opens_the_file_anew_and_shares_its_entries(store):
    store.add("rate", 0, 600)
    store.incr("rate")
    parents = machine_cache._file(store.path)
    child = os.fork()
    if child == 0:  # the child: its own connection, the same entries
        try:
            counted = store.incr("rate") == 2
            os._exit(0 if counted and machine_cache._file(store.path) is not parents else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get("rate") == 2
