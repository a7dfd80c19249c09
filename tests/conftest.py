"""Fixtures shared by every test app: the sandbox upstream over real loopback.

`sandbox` starts one sandbox subprocess per test session; tests take `upstream`,
which is the same sandbox reset to its start behaviour with its request counts
cleared, so no test inherits another's switches. `down_url` is a URL where
nothing listens. `clock` sets the wall clock that rate-limit windows and
budget days are counted by (`audit.clock`). Every test starts with no compiled
routing snapshot, since test databases roll back and a generation number can
repeat with other contents.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.sandbox import SandboxUpstream, closed_port_url, start_sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxUpstream]:
    upstream = start_sandbox()
    yield upstream
    upstream.stop()


@pytest.fixture
def upstream(sandbox: SandboxUpstream) -> Iterator[SandboxUpstream]:
    sandbox.reset()
    yield sandbox
    sandbox.reset()  # a switch left on must not leak into a later test's setup


@pytest.fixture(scope="session")
def second_sandbox() -> Iterator[SandboxUpstream]:
    upstream = start_sandbox()
    yield upstream
    upstream.stop()


@pytest.fixture
def secondary_upstream(second_sandbox: SandboxUpstream) -> Iterator[SandboxUpstream]:
    """A second, independent sandbox, for fallbacks between two upstreams."""
    second_sandbox.reset()
    yield second_sandbox
    second_sandbox.reset()


@pytest.fixture
def qa_client(client):
    """The test client signed in as a member of QA (audit.roles)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from audit.roles import QA_GROUP

    user = get_user_model().objects.create_user("qa", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=QA_GROUP))
    client.force_login(user)
    return client


@pytest.fixture
def down_url() -> str:
    return closed_port_url()


@pytest.fixture(scope="session", autouse=True)
def _close_thread_connections(django_db_setup) -> Iterator[None]:
    """asgiref's shared sync thread outlives every test and keeps a database
    connection; close it before the test database is dropped, which PostgreSQL
    refuses while anyone is connected. (Audit writers free themselves when their
    loop is collected: the collection below runs what is left of that.)"""
    yield
    import gc

    from asgiref.sync import SyncToAsync
    from django.db import connections

    gc.collect()
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


# The trail is keyed in tests, as in a deployment; tests of rotation add keys.
TRAIL_KEYS = (("test-2026", "a-trail-key-for-tests-only-0123456789"),)


@pytest.fixture(autouse=True)
def trail_keys(settings: Any) -> None:
    settings.AUDIT_TRAIL_KEYS = TRAIL_KEYS


@pytest.fixture(autouse=True)
def fresh_caches(settings) -> Iterator[None]:
    """Counters, circuits, token look-ups and cached answers never leak between tests."""
    from django.core.cache import caches

    from routing import memo

    for alias in settings.CACHES:
        caches[alias].clear()
    memo.tokens.clear()  # what this process keeps of them, too
    memo.breakers.clear()
    yield
    for alias in settings.CACHES:
        try:
            caches[alias].clear()
        except ConnectionError:
            pass  # a test's own Redis, already stopped


@pytest.fixture(autouse=True)
def fresh_routing_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    from routing.snapshot import SnapshotStore  # after Django is set up

    monkeypatch.setattr("routing.snapshot._store", SnapshotStore())


class SetClock:
    """The wall clock of `audit.clock`, held still at `at` until moved."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
        self.at = at
        monkeypatch.setattr("audit.clock.time", lambda: self.at.timestamp())

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SetClock:
    """Mid-minute on a mid-month day, far from any window's edge, unless moved."""
    return SetClock(monkeypatch, datetime(2026, 6, 15, 12, 0, 30, tzinfo=UTC))
