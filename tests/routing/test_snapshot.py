"""The snapshot: compiled once, planned from without queries, swapped after a change."""

from __future__ import annotations

import pytest

from providers.models import Capability, HealthStatus
from routing.config_export import config_hash, export_config
from routing.planner import plan_call
from routing.snapshot import SnapshotStore, compile_snapshot
from routing.types import RouteRequest
from tests.factories import ModelFactory, ProviderFactory
from tests.routing.factories import CapabilityScoreFactory
from tests.routing.support import user

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _configure() -> None:
    local = ProviderFactory(key="local")
    CapabilityScoreFactory(model=ModelFactory(provider=local, model_id="llama"), score=70)
    CapabilityScoreFactory(model=ModelFactory(provider=local, model_id="qwen"), score=60)


def test_a_change_becomes_visible_after_the_check_interval_without_a_query_per_plan(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _configure()
    clock = FakeClock()
    store = SnapshotStore(interval=1.0, clock=clock)
    request = RouteRequest(Capability.CHAT, user("hello"))
    assert plan_call(request, store.get(), {}).primary.model == "llama"

    with django_capture_on_commit_callbacks(execute=True):
        score = CapabilityScoreFactory._meta.model.objects.get(model__model_id="qwen")
        score.score = 95
        score.save()
    with django_assert_num_queries(0):
        for _ in range(100):
            plan = plan_call(request, store.get(), {})
    assert plan.primary.model == "llama"  # still the old snapshot, within the interval

    clock.now += 1.0
    assert plan_call(request, store.get(), {}).primary.model == "qwen"


def test_an_unchanged_generation_is_checked_with_one_query_and_not_recompiled(
    django_assert_num_queries,
):
    _configure()
    clock = FakeClock()
    store = SnapshotStore(interval=1.0, clock=clock)
    first = store.get()

    clock.now += 5
    with django_assert_num_queries(1):
        assert store.get() is first


def test_a_probe_result_changes_the_snapshot_but_not_the_config_hash(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        _configure()
    before = compile_snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        provider = ProviderFactory(key="local")
        provider.health_status = HealthStatus.FAILED
        provider.save(update_fields=["health_status"])
    after = compile_snapshot()

    assert after.generation > before.generation
    assert after.providers["local"].health == HealthStatus.FAILED
    assert after.config_hash == before.config_hash == config_hash(export_config())


async def test_the_async_accessor_serves_a_fresh_snapshot_without_a_thread_hop():
    store = SnapshotStore(interval=60.0)
    store.snapshot = object()  # a fresh snapshot is returned as it is
    store.checked_at = store.clock()

    assert await store.aget() is store.snapshot
