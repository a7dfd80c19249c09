"""In a real browser: QA and an assessor approve a release's configuration version
and its gate is met; a new version published for the release is not met yet."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from audit.models import Release
from audit.roles import QA_GROUP, ensure_roles
from routing.models import ConfigVersion
from routing.snapshot import compile_snapshot
from tests.browser import chromium_page, expect, sign_in
from tests.factories import ProviderFactory
from tests.gateway import running_gateway

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-demo-password"


def _user(name: str, group: Group) -> None:
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True, is_superuser=True)
    user.groups.add(group)


def _sign(page, gateway: str, name: str, release: Release):
    """Sign the release as `name`; return the release page's gate field."""
    page.context.clear_cookies()
    sign_in(page, gateway, name, PASSWORD)
    page.goto(f"{gateway}/admin/audit/release/{release.pk}/change/")
    page.check("#release-sign-form input[value=approve]")
    page.fill("#release-sign-form textarea[name=notes]", f"{name}: checked")
    page.click("#release-sign-form input[type=submit]")
    return page.locator(".field-gate")


def test_qa_and_an_assessor_meet_the_gate_and_a_new_version_is_not_met():
    ProviderFactory(key="local")
    version = compile_snapshot().config_version
    release = Release.objects.create(name="2026.12", config_version=version,
                                     required_roles=["QA", "assessor"])  # fmt: skip
    _user("quinn", ensure_roles(apps)[QA_GROUP])
    _user("ada", Group.objects.create(name="assessor"))
    User.objects.create_superuser("olivia", password=PASSWORD)

    with chromium_page() as page, running_gateway() as gateway:
        expect(_sign(page, gateway, "quinn", release)).to_contain_text("waiting for assessor")
        gate = _sign(page, gateway, "ada", release)
        expect(gate).to_contain_text(f"met for configuration version {version}")

        ProviderFactory(key="cloud")  # the operator's next change: published and active at once
        newer = ConfigVersion.objects.get(is_active=True).number
        assert newer > version
        page.context.clear_cookies()
        sign_in(page, gateway, "olivia", PASSWORD)
        page.goto(f"{gateway}/admin/audit/release/{release.pk}/change/")
        page.fill("#id_config_version", str(newer))
        page.click("input[name=_continue]")
        gate = page.locator(".field-gate")
        expect(gate).to_contain_text(f"not met for version {newer}: waiting for QA, assessor")
        page.screenshot(path="var/admin-release-gate.png", full_page=True)

    assert ConfigVersion.objects.get(number=newer).is_active
