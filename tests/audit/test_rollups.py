"""Roll-ups: hours recomputed idempotently; usage = roll-ups + the tail, never double."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.utils import timezone

from audit.models import LATENCY_BUCKETS_MS, CallRecord, HourlyRollup
from audit.rollups import latency_percentile, roll_up_hours
from audit.selectors import usage_for
from audit.types import CallOutcome
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)


def test_an_hour_is_summed_per_route_and_outcome():
    CallRecordFactory.create_batch(3, started_at=NINE, latency_ms=80, input_tokens=10)
    CallRecordFactory(started_at=NINE, outcome=CallOutcome.UPSTREAM_ERROR, error_class="TEMPORARY")

    assert roll_up_hours() == 1

    ok = HourlyRollup.objects.get(outcome=CallOutcome.SUCCESS)
    assert ok.hour == NINE.replace(minute=0)
    assert (ok.calls, ok.errors, ok.input_tokens, ok.latency_sum_ms) == (3, 0, 30, 240)
    assert ok.latency_buckets[17] == 3  # 80 ms falls in the 80–100 ms bucket
    failed = HourlyRollup.objects.get(outcome=CallOutcome.UPSTREAM_ERROR)
    assert (failed.calls, failed.errors, failed.error_class) == (1, 1, "TEMPORARY")


def test_rolling_up_twice_changes_nothing():
    CallRecordFactory.create_batch(2, started_at=NINE)
    call_command("roll_up_audit", stdout=StringIO())
    before = list(HourlyRollup.objects.values("hour", "calls"))

    call_command("roll_up_audit", "--since", "2020-01-01T00:00Z", stdout=StringIO())

    assert list(HourlyRollup.objects.values("hour", "calls")) == before


def test_a_late_record_recomputes_only_its_hour():
    CallRecordFactory(started_at=NINE)
    CallRecordFactory(started_at=NINE + timedelta(hours=3))
    # Recorded well before the run, so outside the overlap the next run re-reads.
    CallRecord.objects.update(recorded_at=timezone.now() - timedelta(hours=1))
    roll_up_hours()

    CallRecordFactory(started_at=NINE)

    assert roll_up_hours() == 1
    assert HourlyRollup.objects.get(hour=NINE.replace(minute=0)).calls == 2


def test_usage_adds_the_tail_to_the_roll_ups_without_counting_twice():
    CallRecordFactory.create_batch(2, client_id=7, started_at=NINE, input_tokens=1, output_tokens=2)
    roll_up_hours()
    CallRecordFactory(client_id=7, client_name="other-name", started_at=NINE, output_tokens=10)
    CallRecordFactory(client_id=8, started_at=NINE)

    usage = usage_for(7, day=NINE.date())

    assert (usage.calls, usage.total_tokens) == (3, 2 * 3 + 30 + 10)
    assert usage_for("notebook", month=NINE.date()).calls == 3
    assert usage_for(7, day=NINE.date() + timedelta(days=1)).calls == 0


def test_percentiles_come_from_the_buckets():
    buckets = [0] * (len(LATENCY_BUCKETS_MS) + 1)
    buckets[17] = 10  # ten calls between 80 and 100 ms

    assert latency_percentile(buckets, 0.5) == pytest.approx(90)
    assert latency_percentile(buckets, 0.95) == pytest.approx(99)
    assert latency_percentile([0] * len(buckets), 0.5) is None
    assert latency_percentile([0, 0, 10] + [0] * 9, 0.5) is None  # an older layout


def test_fast_calls_are_not_misstated_by_a_coarse_bucket():
    CallRecordFactory.create_batch(19, started_at=NINE, latency_ms=0)
    CallRecordFactory(started_at=NINE, latency_ms=2)
    roll_up_hours()

    [row] = HourlyRollup.objects.all()

    assert latency_percentile(row.latency_buckets, 0.5) < 1  # the real p50 is 0 ms
    assert latency_percentile(row.latency_buckets, 0.95) <= 1  # and p95 is 0 ms
    assert latency_percentile(row.latency_buckets, 1.0) <= 3  # the slowest took 2 ms


def test_calls_with_estimated_usage_are_counted_and_earlier_rollups_catch_up():
    CallRecordFactory(started_at=NINE, input_tokens=4, output_tokens=6, usage_estimated=True)
    CallRecordFactory(started_at=NINE, input_tokens=4, output_tokens=6, usage_estimated=True)
    CallRecordFactory(started_at=NINE, input_tokens=100, output_tokens=1)
    roll_up_hours()

    row = HourlyRollup.objects.get()
    assert (row.calls, row.estimated_calls, row.estimated_tokens) == (3, 2, 20)

    # Roll-ups made before the columns existed hold 0; the migration counts them.
    HourlyRollup.objects.update(estimated_calls=0, estimated_tokens=0)
    migration = import_module("audit.migrations.0010_rollup_estimated_usage")
    migration.count_estimated_usage(django_apps, None)
    row.refresh_from_db()
    assert (row.estimated_calls, row.estimated_tokens) == (2, 20)
