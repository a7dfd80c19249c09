"""The admin index opens on an overview: provider health with a latency sparkline,
the last hour's calls and error rate, the trail's last verification with a button
to verify it now, what awaits review (a pluggable list), and working links."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import review
from audit.models import AuditVerification, Release
from audit.pilot_models import PilotStatus
from audit.rollups import roll_up_hours
from audit.types import CallOutcome
from llmcaller import overview
from routing.versions import publish_working_copy
from tests.audit.factories import CallRecordFactory, PilotFactory
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

# The admin index with every overview figure, the banner and every review panel.
QUERIES = 40


def _index(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_overview_shows_health_with_a_sparkline_and_the_last_hour(qa_client):
    ProviderFactory(key="lmstudio", health_status="ok", probe_latency_ms=12.0)
    ProviderFactory(key="idle")
    CallRecordFactory.create_batch(3, provider="lmstudio", latency_ms=40)
    CallRecordFactory(provider="lmstudio", outcome=CallOutcome.UPSTREAM_ERROR)
    roll_up_hours()

    page = _index(qa_client)

    health = page.split('id="overview-health"')[1].split("</table>")[0]
    assert "lmstudio" in health and "12 ms" in health
    assert health.count('<svg class="sparkline"') == 1  # idle has no calls to draw
    assert re.search(r'id="overview-call-count"><a [^>]+>4</a>', page)
    assert "25.0 %" in page.split('id="overview-error-rate"')[1].split("</td>")[0]


def test_the_overview_links_to_the_routing_preview_and_the_api_docs(qa_client):
    page = _index(qa_client)

    for link in ("link-routing-preview", "link-api-docs"):
        href = re.search(rf'href="([^"]+)" id="{link}"', page).group(1)
        assert qa_client.get(href).status_code == 200
    assert "View site" not in page  # there is no site to view


def test_qa_verifies_the_trail_from_the_overview_and_the_check_is_recorded(qa_client):
    CallRecordFactory.create_batch(2)
    assert "The chain has never been verified." in _index(qa_client)

    response = qa_client.post("/admin/audit/auditverification/verify/", {"next": "/admin/"},
                              follow=True)  # fmt: skip

    check = AuditVerification.objects.get()
    assert (check.ok, check.records_checked, check.actor) == (True, 2, "admin:qa")
    page = response.content.decode()
    assert "The trail is intact: 2 records checked." in page
    assert "Last chain verification: <strong>intact</strong>" in page


def test_verifying_needs_a_post(qa_client):
    assert qa_client.get("/admin/audit/auditverification/verify/").status_code == 405
    assert not AuditVerification.objects.exists()


def test_what_awaits_review_is_a_pluggable_list(qa_client, monkeypatch):
    monkeypatch.setattr(review, "REVIEW_PANELS", [])
    overview.register_review_panel(
        lambda request: overview.ReviewPanel(
            "Configuration versions", [overview.ReviewItem("Version 7", "/admin/", "by ops")]
        )
    )

    page = _index(qa_client)
    assert "Configuration versions" in page and "Version 7" in page
    assert 'id="review-empty"' not in page


def test_with_nothing_pending_nothing_awaits_review(qa_client):
    PilotFactory(status=PilotStatus.CLOSED)

    section = _review_section(_index(qa_client))

    assert 'id="review-empty">Nothing awaits review' in section
    assert "<a href" not in section


def test_a_pending_version_an_unmet_gate_and_a_live_pilot_await_review(qa_client, settings):
    settings.LLMCALLER_CONFIG_REVIEW = "required"
    version = publish_working_copy(author="ops", source="admin", summary="a new default model")
    release = Release.objects.create(name="2026.12", config_version=version.number,
                                     required_roles=["QA", "Product"])  # fmt: skip
    pilot = PilotFactory(name="notebook-pilot", status=PilotStatus.LIVE)
    PilotFactory(name="finished-pilot", status=PilotStatus.CLOSED)
    qa_client.get("/admin/")  # the first request's one-off queries are not the index's

    with CaptureQueriesContext(connection) as queries:
        section = _review_section(_index(qa_client))

    assert 'id="review-empty"' not in section
    rows = re.findall(r'<a href="([^"]+)">([^<]+)</a></td><td>([^<]*)<', section)
    links = {label: href for href, label, _note in rows}
    assert links == {
        str(version): f"/admin/routing/configversion/{version.pk}/change/",
        f"release 2026.12 (configuration version {version.number})":
            f"/admin/audit/release/{release.pk}/change/",
        "notebook-pilot": f"/admin/audit/pilot/{pilot.pk}/change/",
    }  # fmt: skip
    assert "by ops: a new default model" in section
    assert "waiting for QA, Product" in section
    assert "live: notebook, since 2026-11-02" in section
    for href in links.values():
        assert qa_client.get(href).status_code == 200

    # A few queries in all, and none more for more rows (no query per item).
    Release.objects.create(name="2027.01", config_version=version.number)
    PilotFactory.create_batch(2, status=PilotStatus.REHEARSAL)
    with CaptureQueriesContext(connection) as more:
        assert _review_section(_index(qa_client)).count("<a href") == 6
    assert len(more) == len(queries) <= QUERIES


def _review_section(page: str) -> str:
    return page.split('id="overview-review"')[1].split("</table>")[0]
