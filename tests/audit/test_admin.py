"""QA in the admin: read-only audit trail, filters, CSV export, verification, dashboard."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import CallRecord
from audit.roles import BACKLOG_PERMISSIONS, QA_GROUP
from audit.rollups import roll_up_hours
from audit.types import CallOutcome
from audit.verification import run_verification
from tests.audit.factories import CallRecordFactory
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_qa_group_views_audit_and_providers_reviews_versions_and_only_signs_off():
    codenames = set(Group.objects.get(name=QA_GROUP).permissions.values_list("codename", flat=True))

    assert {"view_callrecord", "view_dashboard", "view_configchange", "view_provider"} <= codenames
    assert {"view_signoff", "view_configversion"} <= codenames
    # Beyond viewing: sign-offs (configuration versions included) and the backlog
    # pilots produce (findings, follow-ups), never configuration.
    assert {c for c in codenames if not c.startswith("view_")} == {
        "sign_off",
        "review_configversion",
        *BACKLOG_PERMISSIONS,
    }


def test_qa_cannot_change_a_provider(qa_client):
    provider = ProviderFactory()
    url = reverse("admin:providers_provider_change", args=[provider.pk])

    assert qa_client.get(url).status_code == 200
    assert qa_client.post(url, {"name": "renamed"}).status_code == 403


@pytest.mark.parametrize("who", ["qa", "superuser"])
def test_nobody_changes_adds_or_deletes_a_call_record(who, qa_client, admin_client):
    client = qa_client if who == "qa" else admin_client
    record = CallRecordFactory()
    change = reverse("admin:audit_callrecord_change", args=[record.pk])

    assert client.post(change, {"outcome": "success"}).status_code == 403
    assert client.get(reverse("admin:audit_callrecord_add")).status_code == 403
    delete = reverse("admin:audit_callrecord_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert CallRecord.objects.filter(pk=record.pk, outcome="success").exists()


def test_the_list_filters_by_outcome_and_searches_by_request_id(qa_client):
    CallRecordFactory(request_id="ok-1")
    CallRecordFactory(request_id="bad-1", outcome=CallOutcome.UPSTREAM_ERROR)
    url = reverse("admin:audit_callrecord_changelist")

    filtered = qa_client.get(url, {"outcome__exact": "upstream_error"}).content.decode()
    searched = qa_client.get(url, {"q": "ok-1"}).content.decode()

    assert "bad-1" in filtered and "ok-1" not in filtered
    assert "ok-1" in searched and "bad-1" not in searched


def test_the_list_filters_by_the_configuration_version_that_routed_a_call(qa_client):
    CallRecordFactory(request_id="old-1", config_version=3)
    CallRecordFactory(request_id="new-1", config_version=4)
    url = reverse("admin:audit_callrecord_changelist")

    page = qa_client.get(url, {"config_version": "4"}).content.decode()

    assert "new-1" in page and "old-1" not in page
    assert "version 3" in page  # offered as a choice, from the latest records


def test_the_change_page_shows_the_route_and_attempts_readably(qa_client):
    record = CallRecordFactory(
        routing={
            "capability": "chat", "strategy": "fallback", "reason": "primary timed out",
            "candidates": [{"provider": "lms-a", "model": "m1", "strategy": "capability-default",
                            "score": 70, "skipped": None}],
        },
        attempts=[
            {"provider": "lms-a", "model": "m1", "outcome": "TEMPORARY", "latencyMs": 12.5},
            {"provider": "lms-b", "model": "m2", "outcome": "ok", "latencyMs": 3.0},
        ],
    )  # fmt: skip

    page = qa_client.get(
        reverse("admin:audit_callrecord_change", args=[record.pk])
    ).content.decode()

    assert "<dt>reason</dt><dd>primary timed out</dd>" in page
    squeezed = " ".join(page.split()).replace("> <", "><")
    assert "<td>2</td><td>lms-b</td><td>m2</td><td>ok</td><td>3.0</td>" in squeezed
    # the preview's own table of candidates
    assert 'id="record-considered" class="plan-considered"' in page
    assert "<td>lms-a</td><td>m1</td><td>capability-default</td><td>70</td><td>usable</td>" in (
        squeezed
    )
    assert "&quot;capability&quot;" not in page  # no raw JSON dump


def test_timestamps_show_seconds_and_the_timezone_in_the_list_and_the_csv(qa_client):
    from datetime import UTC, datetime

    CallRecordFactory(started_at=datetime(2026, 3, 1, 9, 15, 42, 250000, tzinfo=UTC))

    page = qa_client.get(reverse("admin:audit_callrecord_changelist")).content.decode()
    rows = _csv(qa_client.get(reverse("admin:audit_callrecord_export")))

    assert "2026-03-01 09:15:42 UTC" in page
    assert rows[0]["started_at"] == "2026-03-01T09:15:42.250+00:00"


def test_the_list_leads_with_outcome_error_latency_tokens_and_door(qa_client):
    CallRecordFactory(outcome=CallOutcome.NO_ROUTE, error_class="PERMANENT", door="admin")

    page = qa_client.get(reverse("admin:audit_callrecord_changelist")).content.decode()

    headers = [h.split('"')[0] for h in page.split('<th scope="col" class="')[1:]]
    columns = [h.removeprefix("sortable ").split()[0] for h in headers]
    assert columns[1:7] == [
        "column-started_at", "column-outcome_badge", "column-error_class", "column-latency_ms",
        "column-total_tokens", "column-door",
    ]  # fmt: skip
    assert "refused: no route" in page and "PERMANENT" in page


def test_refusals_before_authentication_are_shown_beside_the_records(qa_client):
    from django.utils import timezone

    from audit.models import RefusalCount

    minute = timezone.now().replace(second=0, microsecond=0)
    RefusalCount.objects.create(
        minute=minute,
        source_address="10.0.0.9",
        reason="token unknown",
        token_prefix="llmc_abc",
        count=41,
    )

    page = qa_client.get(reverse("admin:audit_callrecord_changelist")).content.decode()
    counts = qa_client.get(reverse("admin:audit_refusalcount_changelist")).content.decode()

    assert "<strong>41</strong> requests from 1 source" in page
    assert "token unknown: 41" in page
    assert "10.0.0.9" in counts and "llmc_abc" in counts


def test_the_export_link_keeps_the_changelist_filters(qa_client):
    CallRecordFactory(request_id="ok-1", provider="lmstudio")
    CallRecordFactory(request_id="=HYPERLINK()", provider="openai")
    page = qa_client.get(
        reverse("admin:audit_callrecord_changelist"), {"provider": "openai"}
    ).content.decode()
    assert 'href="/admin/audit/callrecord/export.csv?provider=openai"' in page

    response = qa_client.get(reverse("admin:audit_callrecord_export"), {"provider": "openai"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv(response)
    assert [row["request_id"] for row in rows] == ["'=HYPERLINK()"]  # never a live formula
    assert rows[0]["provider"] == "openai" and rows[0]["row_hash"]


def test_the_export_action_exports_the_selected_records(qa_client):
    records = CallRecordFactory.create_batch(3)
    response = qa_client.post(
        reverse("admin:audit_callrecord_changelist"),
        {"action": "export_csv", "_selected_action": [records[0].pk, records[2].pk]},
    )

    assert sorted(int(row["id"]) for row in _csv(response)) == [records[0].pk, records[2].pk]


def test_the_changelist_shows_the_last_verification(qa_client):
    url = reverse("admin:audit_callrecord_changelist")
    assert "has never been verified" in qa_client.get(url).content.decode()
    CallRecordFactory.create_batch(2)
    run_verification(actor="nightly cron")

    page = qa_client.get(url).content.decode()

    assert "Last chain verification: <strong>intact</strong>" in page
    assert "by nightly cron" in page


def test_the_dashboard_draws_charts_from_the_roll_ups(qa_client):
    CallRecordFactory.create_batch(3, provider="lmstudio", latency_ms=80)
    CallRecordFactory(provider="openai", outcome="upstream_error", error_class="RATE_LIMIT")
    roll_up_hours()

    page = qa_client.get(reverse("admin:audit_dashboard_changelist")).content.decode()

    assert page.count('<svg class="audit-chart"') == 6
    assert "<title>lmstudio p50: 90 ms</title>" in page
    assert "RATE_LIMIT" in page
    assert "<strong>4</strong> calls" in page


def test_staff_outside_qa_cannot_open_the_dashboard(client):
    user = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(user)

    assert client.get(reverse("admin:audit_dashboard_changelist")).status_code == 403
