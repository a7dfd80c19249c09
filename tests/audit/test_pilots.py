"""Pilot services: the seeded checklist, ticking with who and when, a pilot's
calls between its dates, and the backlog's CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from audit.backlog_export import backlog_csv
from audit.models import Finding, FollowUp
from audit.pilots import CHECKLIST, pilot_calls, seed_checklist, tick, untick
from audit.types import CallMethod, CallOutcome
from tests.audit.factories import CallRecordFactory, PilotFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def test_a_pilot_is_seeded_with_each_phase_once():
    pilot = PilotFactory()

    added = seed_checklist(pilot)

    assert added == 12 and seed_checklist(pilot) == 0
    keys = {phase: list(pilot.checklist.filter(phase=phase).values_list("key", flat=True))
            for phase in ("pre-flight", "rehearsal", "wrap-up")}  # fmt: skip
    assert keys["pre-flight"] == ["environment-checked", "providers-checked",
                                  "client-token-issued", "limits-confirmed"]  # fmt: skip
    assert "failure-rehearsed" in keys["rehearsal"] and "uat-run" in keys["rehearsal"]
    assert keys["wrap-up"][-1] == "pilot-signed-off"
    assert sum(len(items) for items in CHECKLIST.values()) == 12


def test_ticking_records_who_and_when_and_unticking_clears_both():
    pilot = PilotFactory()
    seed_checklist(pilot)
    item = pilot.checklist.get(key="limits-confirmed")
    at = dt.datetime(2026, 11, 3, 9, 30, tzinfo=UTC)

    tick(item, actor="olga", at=at)

    item.refresh_from_db()
    assert (item.done_by, item.done_at) == ("olga", at)
    assert {"phase": "pre-flight", "key": "limits-confirmed", "doneAt": at.isoformat(),
            "doneBy": "olga"} in pilot.canonical_payload()["checklist"]  # fmt: skip
    untick(item, actor="olga")
    item.refresh_from_db()
    assert (item.done_by, item.done_at) == ("", None)


def test_a_pilots_calls_are_its_clients_between_its_dates():
    pilot = PilotFactory(kickoff=dt.date(2026, 11, 2), ends_on=dt.date(2026, 11, 4))
    inside = dt.datetime(2026, 11, 4, 23, 59, tzinfo=UTC)
    for latency in (100, 200, 300):
        CallRecordFactory(started_at=inside, latency_ms=latency)
    CallRecordFactory(started_at=inside, latency_ms=900, outcome=CallOutcome.UPSTREAM_ERROR)
    CallRecordFactory(started_at=inside, method=CallMethod.EMBED, latency_ms=50)
    CallRecordFactory(started_at=dt.datetime(2026, 11, 1, 23, 0, tzinfo=UTC))  # before kickoff
    CallRecordFactory(started_at=dt.datetime(2026, 11, 5, 0, 0, tzinfo=UTC))  # after the end
    CallRecordFactory(started_at=inside, client_id=2, client_name="other")

    rows = {r["method"]: r for r in pilot_calls(pilot, now=dt.datetime(2026, 12, 1, tzinfo=UTC))}

    chat = rows["chat"]
    assert (chat["calls"], chat["errors"], chat["error_rate"]) == (4, 1, 0.25)
    assert (chat["mean_ms"], chat["p95_ms"], chat["max_ms"]) == (375, 900, 900)
    assert (rows["embed"]["calls"], rows["embed"]["errors"]) == (1, 0)


def test_an_open_pilot_counts_calls_until_now():
    pilot = PilotFactory(kickoff=dt.date(2026, 11, 2))
    CallRecordFactory(started_at=dt.datetime(2026, 11, 20, tzinfo=UTC))
    CallRecordFactory(started_at=dt.datetime(2026, 11, 30, tzinfo=UTC))

    rows = pilot_calls(pilot, now=dt.datetime(2026, 11, 25, tzinfo=UTC))

    assert [r["calls"] for r in rows] == [1]


def test_the_backlog_csv_has_owners_statuses_due_dates_and_zoned_timestamps():
    pilot = PilotFactory(name="notebook-pilot")
    finding = Finding.objects.create(
        pilot=pilot, title="Streams stall behind the proxy", owner="qa-kim", severity="high",
        due_on=dt.date(2026, 12, 9), created_by="qa-kim",
    )  # fmt: skip
    FollowUp.objects.create(finding=finding, title="=HYPERLINK(x)", owner="ops-lee",
                            status="in-progress", due_on=dt.date(2026, 12, 16))  # fmt: skip

    rows = list(csv.DictReader(io.StringIO(backlog_csv(Finding.objects.all()))))

    assert [(r["kind"], r["owner"], r["status"], r["due_on"], r["severity"]) for r in rows] == [
        ("finding", "qa-kim", "open", "2026-12-09", "high"),
        ("follow-up", "ops-lee", "in-progress", "2026-12-16", "medium"),
    ]
    assert rows[1]["finding_id"] == str(finding.pk) and rows[0]["pilot"] == "notebook-pilot"
    assert rows[1]["title"] == "'=HYPERLINK(x)"  # no formula in a spreadsheet
    assert all(dt.datetime.fromisoformat(r["created_at"]).utcoffset() is not None for r in rows)
