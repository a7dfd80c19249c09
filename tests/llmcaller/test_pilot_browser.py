"""A pilot in a real browser: an operator creates one for a client, ticks the
pre-flight items and runs UAT from the pilot's page against the gateway itself;
QA records a finding with a follow-up, then signs the pilot off citing the UAT
run, and the pilot's page lists the sign-off."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

from audit.models import Finding, Pilot, SignOff, UatRun
from audit.roles import QA_GROUP, ensure_roles
from tests.browser import chromium_page, expect, sign_in
from tests.factories import ClientFactory

pytestmark = [pytest.mark.browser]

OPERATOR_PERMISSIONS = (
    "add_pilot", "change_pilot", "view_pilot", "add_pilotcontact", "change_pilotcontact",
    "view_pilotcontact", "change_checklistitem", "view_checklistitem", "run_uat", "view_uatrun",
    "view_finding", "view_callrecord",
)  # fmt: skip
PRE_FLIGHT = ("Environment checked", "Provider checks", "Client token issued", "Rate limit")


def _people() -> None:
    users = get_user_model().objects
    operator = users.create_user("olga", password="an-operator-password", is_staff=True)
    operator.user_permissions.add(*Permission.objects.filter(
        Q(content_type__app_label="audit", codename__in=OPERATOR_PERMISSIONS)
        | Q(content_type__app_label="llmcaller", codename="view_client")
    ))  # fmt: skip
    qa = users.create_user("kim", password="a-long-qa-password", is_staff=True)
    qa.groups.add(ensure_roles(apps)[QA_GROUP])  # transactional tests flush the migration's group


def test_an_operator_runs_a_pilot_and_qa_records_a_finding_and_signs_it_off(gateway, provider):
    ClientFactory(tool_id="notebook", requests_per_minute=8)
    _people()

    with chromium_page() as page:
        sign_in(page, gateway, "olga", "an-operator-password")
        page.goto(f"{gateway}/admin/audit/pilot/add/")
        page.fill("#id_name", "notebook-pilot")
        page.select_option("#id_client", label="notebook")
        page.fill("#id_caller_tool", "notebook-cli")
        page.fill("#id_owner", "olga")
        page.fill("#id_kickoff", "2000-01-03")
        page.select_option("#id_status", "pre-flight")
        page.fill("#id_contacts-0-name", "Sam from the notebook team")
        page.click("input[name=_continue]")
        page.wait_for_selector("#checklist-group")

        for label in PRE_FLIGHT:
            page.locator("tr", has_text=label).locator("input[name$='-done']").check()
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist")

        page.click("text=Run UAT against this gateway")
        expect(page.locator(".messagelist")).to_contain_text("8 passed, 0 failed")
        expect(page.locator(".pilot-uat-run")).to_have_count(1)
        expect(page.locator("table.pilot-calls")).to_contain_text("chat")
        page.screenshot(path="var/pilot-page.png", full_page=True)

        page.context.clear_cookies()
        sign_in(page, gateway, "kim", "a-long-qa-password")
        page.goto(f"{gateway}/admin/audit/finding/add/")
        page.select_option("#id_pilot", label="notebook-pilot")
        page.fill("#id_title", "Rate limit too tight for batch jobs")
        page.fill("#id_owner", "kim")
        page.select_option("#id_severity", "high")
        page.fill("#id_due_on", "2000-02-01")
        page.fill("#id_follow_ups-0-title", "Raise notebook's limit to 120/min")
        page.fill("#id_follow_ups-0-owner", "olga")
        page.fill("#id_follow_ups-0-due_on", "2000-01-20")
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")

        pilot_id = Pilot.objects.get(name="notebook-pilot").pk
        page.goto(f"{gateway}/admin/audit/pilot/{pilot_id}/change/")
        page.check("#sign-off-form input[value=approve]")
        page.select_option("#sign-off-uat-run", index=1)  # the run olga started
        page.fill("#sign-off-form textarea[name=notes]", "UAT clean; rate limit finding open.")
        page.click("#sign-off-form input[type=submit]")
        expect(page.locator(".messagelist")).to_contain_text("sign-off")
        page.wait_for_load_state()  # read the sign-off whole, not while it still arrives
        signed = page.inner_text(".pilot-sign-off")
        run_link = page.locator(".pilot-sign-off a").get_attribute("href")
        page.screenshot(path="var/pilot-sign-off.png", full_page=True)

    pilot = Pilot.objects.get(name="notebook-pilot")
    assert (pilot.client_name, pilot.caller_tool, pilot.status) == ("notebook", "notebook-cli",
                                                                    "pre-flight")  # fmt: skip
    ticked = pilot.checklist.exclude(done_at=None)
    assert sorted(ticked.values_list("key", flat=True)) == [
        "client-token-issued", "environment-checked", "limits-confirmed", "providers-checked",
    ]  # fmt: skip
    assert set(ticked.values_list("phase", "done_by")) == {("pre-flight", "olga")}
    run = UatRun.objects.get(pilot=pilot)
    assert (run.passed, run.trigger, run.actor, run.checks.count()) == (True, "admin", "olga", 8)
    finding = Finding.objects.get(pilot=pilot)
    assert (finding.severity, finding.owner, finding.created_by) == ("high", "kim", "kim")
    (follow_up,) = finding.follow_ups.all()
    assert (follow_up.owner, follow_up.status, str(follow_up.due_on)) == ("olga", "open",
                                                                          "2000-01-20")  # fmt: skip
    (sign_off,) = SignOff.objects.filter(subject_kind="pilot", subject_id=str(pilot.pk))
    assert (sign_off.decision, sign_off.reviewer_name, sign_off.reviewer_role) == ("approve", "kim",
                                                                               "QA")  # fmt: skip
    assert sign_off.evidence == [f"uat_run:{run.pk}"]
    assert "kim (QA)" in signed and "approve" in signed and f"uat_run:{run.pk}" in signed
    assert run_link == f"/admin/audit/uatrun/{run.pk}/change/"
    assert not pilot.checklist.get(key="pilot-signed-off").done_at  # ticking stays its own step
