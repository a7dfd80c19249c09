"""Budgets: cheap cached counters, bumped by each committed batch, rebuilt when missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from audit import clock as wall
from audit.selectors import budget_status, release_budget, reserve_budget
from tests.audit.factories import CallRecordFactory

# Budget days are UTC days: the wall clock stays at noon unless a test moves it.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture(autouse=True, params=["configured cache", "machine cache"])
def _empty_cache(request, settings, tmp_path):
    """Each test on the cache the suite runs with (memory, or Redis in CI's second
    run) and on the machine cache several workers share without Redis."""
    if request.param == "machine cache":
        settings.CACHES = {**settings.CACHES, "default": {
            "BACKEND": "llmcaller.machine_cache.MachineCache",
            "LOCATION": str(tmp_path / "control-cache"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }}  # fmt: skip
    cache.clear()
    yield
    cache.clear()


def _tomorrow() -> datetime:
    today = wall.now().date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def test_no_limits_is_always_allowed_without_reading_anything(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert budget_status(5, None, None) == (True, None)


def test_the_first_read_rebuilds_from_records_and_later_reads_are_cached(
    django_assert_num_queries,
):
    CallRecordFactory(client_id=5, input_tokens=60, output_tokens=40)

    assert budget_status(5, 150, None) == (True, _tomorrow())
    with django_assert_num_queries(0):
        assert budget_status(5, 150, None)[0] is True


def test_recorded_calls_count_against_the_cached_budget(django_assert_num_queries):
    CallRecordFactory(client_id=5, input_tokens=60, output_tokens=40)
    budget_status(5, 150, None)

    CallRecordFactory(client_id=5, input_tokens=30, output_tokens=30)

    with django_assert_num_queries(0):
        assert budget_status(5, 150, None) == (False, _tomorrow())


def test_a_call_by_a_client_without_a_budget_leaves_the_counters_alone():
    # Counters exist only for a budget's windows; a client whose call had none
    # (its limit added since, say) is counted when its counter is next rebuilt.
    CallRecordFactory(client_id=5, input_tokens=60, output_tokens=40)
    budget_status(5, 150, None)

    CallRecordFactory(client_id=5, input_tokens=30, output_tokens=30, client_has_budget=False)
    assert budget_status(5, 150, None) == (True, _tomorrow())  # the counter: still 100

    cache.clear()
    assert budget_status(5, 150, None) == (False, _tomorrow())  # rebuilt: 160


def test_an_exhausted_month_blocks_until_the_month_resets():
    CallRecordFactory(client_id=9, input_tokens=500)

    allowed, resets_at = budget_status(9, 10_000, 400)

    assert allowed is False
    assert resets_at == datetime(2026, 7, 1, tzinfo=UTC)


def test_other_clients_are_not_charged():
    CallRecordFactory(client_id=1, input_tokens=500)

    assert budget_status(2, 100, 100)[0] is True


def test_a_day_spent_just_before_midnight_is_fresh_just_after(clock):
    clock.set(datetime(2026, 6, 15, 23, 59, 59, tzinfo=UTC))
    CallRecordFactory(client_id=7, input_tokens=500)
    assert budget_status(7, 400, None) == (False, datetime(2026, 6, 16, tzinfo=UTC))

    clock.advance(2)

    assert budget_status(7, 400, None) == (True, datetime(2026, 6, 17, tzinfo=UTC))


def test_a_reservation_holds_tokens_until_released():
    held, _ = reserve_budget(3, 100, None, tokens=60, hold_seconds=600)
    assert held is not None

    second, resets_at = reserve_budget(3, 100, None, tokens=60, hold_seconds=600)
    third, _ = reserve_budget(3, 100, None, tokens=60, hold_seconds=600)

    assert second is not None  # 60 held is under 100: one reservation may overshoot
    assert third is None and resets_at == datetime(2026, 6, 16, tzinfo=UTC)
    release_budget(held)
    release_budget(second)
    assert reserve_budget(3, 100, None, tokens=60, hold_seconds=600)[0] is not None


def test_a_reservation_a_dead_worker_never_released_lapses_after_two_periods(clock):
    reserve_budget(4, 100, None, tokens=100, hold_seconds=600)  # never released
    assert reserve_budget(4, 100, None, tokens=1, hold_seconds=600)[0] is None

    clock.advance(1200)

    assert reserve_budget(4, 100, None, tokens=1, hold_seconds=600)[0] is not None
