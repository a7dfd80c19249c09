"""QA in a real browser: sign in, filter call records, open one, export CSV, see the dashboard."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from audit.roles import QA_GROUP, ensure_roles
from audit.rollups import roll_up_hours
from audit.types import CallOutcome
from audit.verification import run_verification
from tests.audit.factories import CallRecordFactory
from tests.browser import chromium_page, expect, sign_in
from tests.gateway import running_gateway

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed() -> None:
    qa = get_user_model().objects.create_user("qa", password="a-long-qa-password", is_staff=True)
    qa.groups.add(ensure_roles(apps)[QA_GROUP])
    CallRecordFactory.create_batch(6, provider="lmstudio", latency_ms=90)
    CallRecordFactory.create_batch(3, provider="openai", model="gpt-4o-mini", latency_ms=700)
    CallRecordFactory(
        request_id="req-failover",
        provider="openai",
        outcome=CallOutcome.UPSTREAM_ERROR,
        error_class="TEMPORARY",
        strategy="fallback",
        routing={"capability": "chat", "strategy": "fallback", "reason": "primary timed out"},
        attempts=[
            {"provider": "lmstudio", "model": "qwen", "outcome": "TEMPORARY"},
            {"provider": "openai", "model": "gpt-4o-mini", "outcome": "TEMPORARY"},
        ],
    )
    roll_up_hours()
    run_verification(actor="nightly check")


def test_qa_reviews_filters_exports_and_reads_the_dashboard(tmp_path: Path):
    _seed()

    with chromium_page() as page, running_gateway() as gateway:
        sign_in(page, gateway, "qa", "a-long-qa-password")
        page.click("text=Call records")
        expect(page.locator(".audit-verification")).to_contain_text(
            "Last chain verification: intact"
        )

        page.click("#changelist-filter >> text=upstream error")
        page.wait_for_url("**outcome__exact=upstream_error**")
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        page.click("#result_list tbody tr th a")
        expect(page.locator("dl.audit-routing")).to_contain_text("primary timed out")
        expect(page.locator("table.audit-attempts tr")).to_have_count(3)
        page.go_back()

        with page.expect_download() as download:
            page.click("a.audit-export")
        saved = tmp_path / "export.csv"
        download.value.save_as(saved)
        rows = list(csv.DictReader(saved.open()))
        assert [row["request_id"] for row in rows] == ["req-failover"]

        page.goto(f"{gateway}/admin/")
        page.click("text=Dashboard")
        expect(page.locator("svg.audit-chart")).to_have_count(6)
        expect(page.locator(".audit-figures")).to_contain_text("10")
        page.screenshot(path="var/audit-dashboard.png", full_page=True)
