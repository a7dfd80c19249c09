"""Budgets: cheap cached counters, bumped by each committed batch, rebuilt when missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.selectors import budget_status
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _tomorrow() -> datetime:
    today = timezone.now().astimezone(UTC).date()
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


def test_an_exhausted_month_blocks_until_the_month_resets():
    CallRecordFactory(client_id=9, input_tokens=500)

    allowed, resets_at = budget_status(9, 10_000, 400)

    assert allowed is False
    assert resets_at.day == 1 and resets_at > timezone.now()


def test_other_clients_are_not_charged():
    CallRecordFactory(client_id=1, input_tokens=500)

    assert budget_status(2, 100, 100)[0] is True
