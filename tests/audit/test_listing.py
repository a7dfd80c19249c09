"""The call-record list at scale: filter choices and the date drill-down come
from the roll-ups, the count is capped (estimated past the cap on PostgreSQL),
and the CSV export's keyset pages lose no row when timestamps tie."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from audit import exports, listing
from audit.models import CallRecord
from audit.rollups import roll_up_hours
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db
URL = "/admin/audit/callrecord/"


def test_filter_choices_are_the_values_the_roll_ups_hold(qa_client):
    CallRecordFactory(provider="lmstudio", model="rolled-model")
    roll_up_hours()
    CallRecordFactory(provider="openai", model="fresh-model")  # not rolled up yet

    page = qa_client.get(URL).content.decode()

    assert "?model__exact=rolled-model" in page
    assert "?model__exact=fresh-model" not in page
    filtered = qa_client.get(URL, {"model__exact": "fresh-model"}).content.decode()
    assert "fresh-model" in filtered and "1 call record" in filtered  # a link still filters


def test_the_date_drill_down_reads_the_roll_ups_and_the_records_since(qa_client):
    CallRecordFactory(started_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    roll_up_hours(since=datetime(2026, 1, 1, tzinfo=UTC))
    CallRecordFactory(started_at=datetime(2026, 5, 2, 9, tzinfo=UTC))  # not rolled up

    page = qa_client.get(URL, {"started_at__year": "2026"}).content.decode()

    assert "started_at__month=3" in page and "started_at__month=5" in page
    march = qa_client.get(URL, {"started_at__year": "2026", "started_at__month": "3"})
    assert "started_at__day=1" in march.content.decode()


def test_the_count_is_exact_below_the_cap(qa_client, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    CallRecordFactory.create_batch(3)

    assert "3 call records" in qa_client.get(URL).content.decode()


def test_past_the_cap_the_count_is_an_estimate_on_postgresql(qa_client, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    CallRecordFactory.create_batch(5)

    paginator = listing.EstimatedCountPaginator(CallRecord.objects.all(), 100)

    if connection.vendor == "postgresql":
        assert paginator.count >= 4  # the planner's figure, never below the rows counted
    else:
        assert paginator.count == 5


def test_the_export_pages_through_records_that_started_at_the_same_moment(qa_client, monkeypatch):
    monkeypatch.setattr(exports, "PAGE", 2)
    moment = datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    records = CallRecordFactory.create_batch(5, started_at=moment)
    records += CallRecordFactory.create_batch(2, started_at=datetime(2026, 3, 1, 8, tzinfo=UTC))

    response = qa_client.get(reverse("admin:audit_callrecord_export"))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))

    assert [int(row["seq"]) for row in rows] == [5, 4, 3, 2, 1, 7, 6]
    assert sorted(int(row["id"]) for row in rows) == sorted(r.pk for r in records)
