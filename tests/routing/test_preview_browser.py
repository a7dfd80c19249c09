"""An operator in a real browser asks the routing preview where a coding prompt goes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from providers.models import HealthStatus
from tests.browser import chromium_page, expect, sign_in
from tests.factories import ModelFactory, ProviderFactory
from tests.gateway import running_gateway
from tests.routing.factories import (
    CapabilityScoreFactory,
    FallbackStepFactory,
    TaskPreferenceFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _configure() -> None:
    local = ProviderFactory(key="local", name="LM Studio (local)")
    down = ProviderFactory(key="gpu-box", health_status=HealthStatus.FAILED)
    llama = ModelFactory(provider=local, model_id="llama-3.1-8b")
    CapabilityScoreFactory(model=llama, score=70, is_default=True)
    coder = ModelFactory(provider=down, model_id="qwen-coder-32b")
    TaskPreferenceFactory(task="coding", model=coder, position=0)
    small = ModelFactory(provider=local, model_id="qwen-coder-1.5b", max_context_length=4096)
    TaskPreferenceFactory(task="coding", model=small, position=1)
    FallbackStepFactory(model=llama, chain__name="chat-safety", chain__is_default=True)


def test_operator_previews_the_route_of_a_coding_prompt():
    get_user_model().objects.create_superuser("operator", password="a-long-demo-password")
    _configure()

    with chromium_page() as page, running_gateway() as gateway:
        sign_in(page, gateway, "operator", "a-long-demo-password")
        page.click("a[href='/admin/routing/']")
        page.click("text=Routing preview")

        page.select_option("#id_capability", "chat")
        page.fill("#id_prompt", "Why does this raise?\n```python\nprint(1/0)\n```")
        page.fill("#id_max_tokens", "512")
        page.click("input[type=submit][value='Show the plan']")

        expect(page.locator("#plan-strategy")).to_have_text("task-preference")
        expect(page.locator("#plan-task")).to_have_text("coding")
        expect(page.locator("#plan-steps")).to_contain_text("qwen-coder-1.5b")
        expect(page.locator("#plan-steps")).to_contain_text("llama-3.1-8b")
        expect(page.locator("#plan-considered")).to_contain_text("provider's last probe failed")
        page.screenshot(path="var/admin-routing-preview.png", full_page=True)
