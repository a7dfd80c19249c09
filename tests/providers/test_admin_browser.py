"""An operator in a real browser: sign in, discover and probe, see models and health."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.browser import chromium_page, expect, sign_in
from tests.factories import ProviderFactory
from tests.gateway import running_gateway

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_discovers_and_probes_a_provider_from_the_admin(upstream):
    get_user_model().objects.create_superuser("operator", password="a-long-demo-password")
    ProviderFactory(key="lmstudio", base_url=upstream.url)

    with chromium_page() as page, running_gateway() as gateway:
        sign_in(page, gateway, "operator", "a-long-demo-password")
        page.click("a[href='/admin/providers/provider/']")

        page.check("input[name=_selected_action]")
        page.select_option("select[name=action]", "discover_models_action")
        page.click("button[name=index]")
        expect(page.locator("ul.messagelist")).to_contain_text("added")

        page.check("input[name=_selected_action]")
        page.select_option("select[name=action]", "probe_now_action")
        page.click("button[name=index]")
        expect(page.locator("td.field-health_badge")).to_have_text("ok")

        page.click("th.field-key a")
        expect(page.locator("#models-group")).to_contain_text(
            "text-embedding-nomic-embed-text-v1.5"
        )
        page.screenshot(path="var/admin-provider.png", full_page=True)
