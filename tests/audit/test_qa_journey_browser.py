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
from tests.browser import chromium_page, expect, sign_in
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

    expect(page.locator("#overview-health")).to_contain_text("lmstudio")
    expect(page.locator("#overview-call-count")).to_have_text("2")
    expect(page.locator("#overview-error-rate")).to_contain_text("50.0 %")
    _shot(page, "01-overview")

    page.click("#overview-call-count a")
    page.click("#changelist-filter >> text=invalid request")
    page.wait_for_url("**outcome__exact=invalid_request**")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.set_viewport_size({"width": 1280, "height": 900})
    results = page.locator("#changelist .results")  # the list scrolls inside itself
    assert results.evaluate("e => e.scrollWidth <= e.clientWidth")  # all columns show
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.set_viewport_size({"width": WIDTH, "height": 900})
    _shot(page, "02-rejected-calls")
    page.click("#result_list tbody tr th a")
    expect(page.locator(".field-message .readonly")).to_contain_text("colour: Unknown field.")
    expect(page.locator(".field-source_address .readonly")).to_have_text("127.0.0.1")
    expect(page.locator(".field-request_id .readonly")).to_have_text("req-refused")
    _shot(page, "03-rejected-call")

    page.goto(f"{gateway}/admin/audit/callrecord/?strategy__exact=fallback")
    page.click("#result_list tbody tr th a")
    attempts = page.locator("table.plan-attempts tbody tr")
    expect(attempts).to_have_count(3)  # the failing provider twice, then the fallback
    expect(attempts.nth(0)).to_contain_text("TEMPORARY")
    expect(attempts.nth(2)).to_contain_text("lmstudio-b")
    expect(page.locator("#record-considered")).to_contain_text("usable")
    page.locator("table.plan-attempts").scroll_into_view_if_needed()
    _shot(page, "04-fallback-plan")

    page.goto(f"{gateway}/admin/audit/dashboard/?window=day")
    expect(page.locator("#audit-figures")).to_be_visible()
    _shot(page, "05-dashboard")
    page.click("a.figure-failed")
    page.wait_for_url("**failed=1**")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody")).to_contain_text("req-refused")

    page.goto(f"{gateway}/admin/")
    page.click("#verify-trail input[type=submit]")
    verdict = "The trail is intact: 2 records checked."
    expect(page.locator("ul.messagelist")).to_contain_text(verdict)
    expect(page.locator("#overview-trail")).to_contain_text("intact")
    _shot(page, "06-trail-verified")
