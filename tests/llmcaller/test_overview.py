"""The admin index opens on an overview: provider health with a latency sparkline,
the last hour's calls and error rate, the trail's last verification with a button
to verify it now, what awaits review (a pluggable list), and working links."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.models import AuditVerification
from audit.roles import QA_GROUP
from audit.rollups import roll_up_hours
from audit.types import CallOutcome
from llmcaller import overview
from tests.audit.factories import CallRecordFactory
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def qa_client(client):
    user = get_user_model().objects.create_user("qa", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=QA_GROUP))
    client.force_login(user)
    return client


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


def test_what_awaits_review_is_a_pluggable_list_with_an_empty_state(qa_client, monkeypatch):
    assert 'id="review-empty"' in _index(qa_client)

    monkeypatch.setattr(overview, "REVIEW_PANELS", [])
    overview.register_review_panel(
        lambda request: overview.ReviewPanel(
            "Configuration versions", [overview.ReviewItem("Version 7", "/admin/", "by ops")]
        )
    )

    page = _index(qa_client)
    assert "Configuration versions" in page and "Version 7" in page
    assert 'id="review-empty"' not in page
