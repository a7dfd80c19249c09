"""Pilot pages and the backlog in the admin, by role: QA records findings and
exports the backlog, changes no pilot and cannot run UAT."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from audit.models import Finding, FollowUp, UatRun
from audit.pilots import CheckData, UatRunData, record_uat_run
from tests.audit.factories import PilotFactory

pytestmark = pytest.mark.django_db


def test_qa_reads_a_pilot_but_cannot_change_it_or_run_uat(qa_client):
    pilot = PilotFactory()
    change = reverse("admin:audit_pilot_change", args=[pilot.pk])

    assert qa_client.get(change).status_code == 200
    assert "Run UAT" not in qa_client.get(change).content.decode()
    assert qa_client.post(change, {"name": "renamed"}).status_code == 403
    run_uat = reverse("admin:audit_pilot_run_uat", args=[pilot.pk])
    assert qa_client.post(run_uat).status_code == 403
    assert not UatRun.objects.exists()


def test_run_uat_takes_a_post_only(admin_client):
    pilot = PilotFactory()

    response = admin_client.get(reverse("admin:audit_pilot_run_uat", args=[pilot.pk]))

    assert response.status_code == 405


def test_qa_exports_findings_with_their_follow_ups_as_csv(qa_client):
    finding = Finding.objects.create(pilot=PilotFactory(name="notebook-pilot"), title="Slow",
                                     owner="qa", due_on=dt.date(2026, 12, 9))  # fmt: skip
    FollowUp.objects.create(finding=finding, title="Tune", owner="ops", status="done")

    response = qa_client.post(
        reverse("admin:audit_finding_changelist"),
        {"action": "export_csv", "_selected_action": [finding.pk]},
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["kind"], r["owner"], r["status"], r["due_on"]) for r in rows] == [
        ("finding", "qa", "open", "2026-12-09"),
        ("follow-up", "ops", "done", ""),
    ]


def test_uat_runs_are_read_only_even_for_a_superuser(admin_client):
    assert admin_client.get(reverse("admin:audit_uatrun_add")).status_code == 403


def test_a_uat_run_page_shows_its_checks_and_each_fault_with_the_gateways_answer(qa_client):
    at = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)
    fault = {"name": "chat-down", "kind": "TEMPORARY", "provider": "sandbox", "model": "qwen",
             "probability": 1.0, "answers": [{
                 "check": "chat", "requestId": "uat-1", "httpStatus": 503, "error": "TEMPORARY",
                 "outcome": "upstream_error", "strategy": "capability-default",
                 "answeredBy": "sandbox/qwen", "faultedAttempts": []}]}  # fmt: skip
    run = record_uat_run(UatRunData(
        pilot=PilotFactory(), trigger="command", actor="manage.py run_uat",
        gateway_url="http://127.0.0.1:4037", client_name="notebook", caller_tool="notebook-cli",
        started_at=at, finished_at=at,
        checks=(CheckData("chat", "failed", "expected HTTP 200, got HTTP 503", 12.5, ("uat-1",)),),
        faults_enabled=True, fault_rules=[fault],
    ))  # fmt: skip

    page = qa_client.get(reverse("admin:audit_uatrun_change", args=[run.pk])).content.decode()

    assert "expected HTTP 200, got HTTP 503" in page
    assert (
        "<td>chat-down</td><td>TEMPORARY</td><td>sandbox/qwen</td><td>chat</td><td>503</td>" in page
    )
    assert not run.passed and run.checks_failed == 1
