"""Fixtures shared by every test app: the sandbox upstream over real loopback.

`sandbox` starts one sandbox subprocess per test session; tests take `upstream`,
which is the same sandbox reset to its start behaviour with its request counts
cleared, so no test inherits another's switches. `down_url` is a URL where
nothing listens. Every test starts with no compiled routing snapshot, since test
databases roll back and a generation number can repeat with other contents.
"""

from __future__ import annotations

from collections.abc import Iterator

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
def down_url() -> str:
    return closed_port_url()


@pytest.fixture(scope="session", autouse=True)
def _close_thread_connections(django_db_setup) -> Iterator[None]:
    """Threads that outlive their event loops (audit writers, asgiref's shared
    sync thread) keep database connections; close them before the test
    database is dropped, which PostgreSQL refuses while anyone is connected."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from audit.batcher import close_writers

    close_writers()
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


@pytest.fixture(autouse=True)
def fresh_caches(settings) -> Iterator[None]:
    """Counters, circuits, token look-ups and cached answers never leak between tests."""
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()
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
