"""In a real browser: an operator edits a fallback chain and publishes; a QA user
opens the diff against the active version, sees the changed step and approves;
calls follow."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import User

from audit.roles import QA_GROUP, ensure_roles
from routing.models import ConfigVersion, VersionStatus
from tests.browser import chromium_page, expect, sign_in
from tests.llmcaller.test_config_versions import (
    _answered_by,
    _until_answered_by,
    routes,  # noqa: F401  (the fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-demo-password"


def test_an_operator_publishes_a_chain_edit_and_qa_approves_it_from_the_diff(
    routes,  # noqa: F811
    api,
    gateway,
):
    User.objects.create_superuser("olivia", password=PASSWORD)
    qa = User.objects.create_user("quinn", password=PASSWORD, is_staff=True)
    qa.groups.add(ensure_roles(apps)[QA_GROUP])
    assert _answered_by(api) == ("alpha", 1)

    with chromium_page() as page:
        sign_in(page, gateway, "olivia", PASSWORD)
        page.goto(f"{gateway}/admin/routing/fallbackchain/{routes.pk}/change/")
        page.click("#steps-0 .select2-selection")
        page.fill(".select2-search__field", "beta")
        page.click(".select2-results__option:has-text('beta')")
        page.click("input[name=_save]")
        banner = page.locator("#config-banner")
        expect(banner).to_contain_text("The working copy has changes not in the active version 1")
        banner.locator("text=Review and publish them").click()
        expect(page.locator("#config-diff")).to_contain_text("beta/")
        page.fill("#id_summary", "chat-safety: beta first")
        page.click("#publish-form input[type=submit]")
        expect(page.locator("#version-status")).to_contain_text("pending review")
        assert _answered_by(api) == ("alpha", 1)  # not routed until approved

        page.context.clear_cookies()
        sign_in(page, gateway, "quinn", PASSWORD)
        page.locator("#config-banner").locator("text=Open it").click()
        page.click("#diff-link")
        diff = page.locator("#config-diff")
        expect(diff).to_contain_text("fallback chain chat-safety")
        expect(diff).to_contain_text("step 1")
        expect(diff.locator(".diff-before")).to_contain_text("alpha/")
        expect(diff.locator(".diff-after")).to_contain_text("beta/")
        page.go_back()
        page.check("input[name=decision][value=approve]")
        page.fill("#id_notes", "Step 1 moves to beta, as asked.")
        page.click("#review-form input[type=submit]")
        expect(page.locator("#version-status")).to_contain_text("approved")
        page.screenshot(path="var/admin-config-version-approved.png", full_page=True)

    version = ConfigVersion.objects.get(status=VersionStatus.APPROVED)
    assert (version.author, version.summary) == ("olivia", "chat-safety: beta first")
    assert _until_answered_by(api, "beta") == ("beta", version.number)
