"""QA's journey in a real browser, over real calls through the gateway: sign in,
read the overview, find a rejected call and read its reason, source and
requestId, open a fallback call's plan table, follow a dashboard figure to its
records, and verify the trail. The pages are photographed at 1400 px: with
LLMCALLER_SCREENSHOTS=docs/screenshots (`make screenshots`) they refresh the
README's pictures; otherwise they go to var/screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from audit.roles import QA_GROUP, ensure_roles
from audit.rollups import roll_up_hours
from llmcaller.tokens import issue_token
from tests.browser import chromium_page, sign_in
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.gateway import running_gateway
from tests.llmcaller.helpers import CHAT_MODEL, chat_body
from tests.routing.factories import (
    CapabilityScoreFactory,
    FallbackChainFactory,
    FallbackStepFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LLMCALLER_SCREENSHOTS", "var/screenshots"))
WIDTH = 1400


def _configure(primary_url: str, secondary_url: str) -> str:
    """Chat goes to a local provider that fails, then falls back to a second one."""
    qa = get_user_model().objects.create_user("qa", password="a-long-qa-password", is_staff=True)
    qa.groups.add(ensure_roles(apps)[QA_GROUP])  # transactional tests flush the migration's group
    local = ModelFactory(
        provider=ProviderFactory(key="lmstudio", base_url=primary_url, retry_attempts=1),
        model_id=CHAT_MODEL,
    )
    cloud = ModelFactory(
        provider=ProviderFactory(key="lmstudio-b", base_url=secondary_url), model_id=CHAT_MODEL
    )
    CapabilityScoreFactory(model=local, score=90, is_default=True)
    chain = FallbackChainFactory(name="chat-fallback", is_default=True)
    FallbackStepFactory(chain=chain, model=local, position=0)
    FallbackStepFactory(chain=chain, model=cloud, position=1)
    return issue_token(client=ClientFactory(tool_id="qa-tool")).raw


def _make_calls(gateway: str, token: str) -> None:
    headers = {"x-llm-caller-token": token}
    with httpx.Client(base_url=gateway, headers=headers, timeout=10, trust_env=False) as api:
        assert api.post("/mcp/chat", json=chat_body(requestId="req-fallback")).status_code == 200
        refused = api.post("/mcp/chat", json=chat_body(requestId="req-refused", colour="red"))
        assert refused.status_code == 400
    roll_up_hours()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_qa_walks_from_the_overview_to_records_plans_dashboard_and_trail(
    upstream, secondary_upstream, settings
):
    settings.ROUTING_RETRY_BACKOFF_SECONDS = 0.01
    token = _configure(upstream.url, secondary_upstream.url)
    upstream.set(error_status=503)

    # The calls and roll-up come before the browser: under Playwright's event loop
    # Django would give this thread a connection of its own that nobody closes.
    with running_gateway() as gateway:
        _make_calls(gateway, token)
        with chromium_page() as page:
            _walk(page, gateway)


def _walk(page, gateway: str) -> None:
    """Sign in as QA and walk the pages, checking what QA reads on each."""
    page.set_viewport_size({"width": WIDTH, "height": 900})
    sign_in(page, gateway, "qa", "a-long-qa-password")

    page.wait_for_selector("#overview-health")
    assert "lmstudio" in page.inner_text("#overview-health")
    assert page.inner_text("#overview-call-count") == "2"
    assert "50.0 %" in page.inner_text("#overview-error-rate")
    _shot(page, "01-overview")

    page.click("#overview-call-count a")
    page.click("#changelist-filter >> text=invalid request")
    page.wait_for_url("**outcome__exact=invalid_request**")
    assert page.locator("#result_list tbody tr").count() == 1
    page.set_viewport_size({"width": 1280, "height": 900})
    results = page.locator("#changelist .results")  # the list scrolls inside itself
    assert results.evaluate("e => e.scrollWidth <= e.clientWidth")  # all columns show
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.set_viewport_size({"width": WIDTH, "height": 900})
    _shot(page, "02-rejected-calls")
    page.click("#result_list tbody tr th a")
    page.wait_for_selector(".field-message")
    assert "colour: Unknown field." in page.inner_text(".field-message .readonly")
    assert page.inner_text(".field-source_address .readonly") == "127.0.0.1"
    assert page.inner_text(".field-request_id .readonly") == "req-refused"
    _shot(page, "03-rejected-call")

    page.goto(f"{gateway}/admin/audit/callrecord/?strategy__exact=fallback")
    page.click("#result_list tbody tr th a")
    page.wait_for_selector("table.plan-attempts")
    attempts = page.locator("table.plan-attempts tbody tr")
    assert attempts.count() == 3  # the failing provider twice, then the fallback
    assert "TEMPORARY" in attempts.nth(0).inner_text()
    assert "lmstudio-b" in attempts.nth(2).inner_text()
    assert "usable" in page.inner_text("#record-considered")
    page.locator("table.plan-attempts").scroll_into_view_if_needed()
    _shot(page, "04-fallback-plan")

    page.goto(f"{gateway}/admin/audit/dashboard/?window=day")
    page.wait_for_selector("#audit-figures")
    _shot(page, "05-dashboard")
    page.click("a.figure-failed")
    page.wait_for_url("**failed=1**")
    assert page.locator("#result_list tbody tr").count() == 1
    assert "req-refused" in page.inner_text("#result_list tbody")

    page.goto(f"{gateway}/admin/")
    page.click("#verify-trail input[type=submit]")
    page.wait_for_selector("ul.messagelist")
    assert "The trail is intact: 2 records checked." in page.inner_text("ul.messagelist")
    assert "intact" in page.inner_text("#overview-trail")
    _shot(page, "06-trail-verified")
