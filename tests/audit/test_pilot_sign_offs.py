"""Sign-offs on pilots and UAT runs: recorded from the pilot's page by a role
that may sign, citing a UAT run as `uat_run:<id>`; refused, with nothing
written, to a reviewer who may only read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from audit.models import SignOff, TrailEntry
from audit.pilot_sign_offs import SignOffRefused, sign_pilot, sign_uat_run
from audit.pilots import CheckData, UatRunData, record_uat_run
from audit.roles import PRODUCT_GROUP, QA_GROUP
from tests.audit.factories import PilotFactory

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)


def _user(name: str, group: str | None = None):
    user = get_user_model().objects.create_user(name, password="pw", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _run(pilot):
    return record_uat_run(UatRunData(
        pilot=pilot, trigger="command", actor="olga", gateway_url="http://127.0.0.1:4037",
        client_name="notebook", caller_tool="notebook-cli", started_at=AT, finished_at=AT,
        checks=(CheckData("chat", "passed", "", 10.0),),
    ))  # fmt: skip


def test_qa_signs_a_pilot_citing_one_of_its_runs_and_the_trail_keeps_it():
    pilot = PilotFactory()
    run = _run(pilot)

    sign_off = sign_pilot(pilot=pilot, reviewer=_user("kim", QA_GROUP), decision="approve",
                          notes="Clean.", evidence=["https://tickets/42"], uat_run=run)  # fmt: skip

    assert (sign_off.subject_kind, sign_off.subject_id) == ("pilot", str(pilot.pk))
    assert (sign_off.reviewer_role, sign_off.evidence) == (
        "QA", [f"uat_run:{run.pk}", "https://tickets/42"])  # fmt: skip
    assert TrailEntry.objects.filter(kind="sign_off", object_id=str(sign_off.pk)).exists()


def test_product_signs_pilots_but_not_uat_runs():
    pilot = PilotFactory()
    product = _user("pat", PRODUCT_GROUP)

    sign_pilot(pilot=pilot, reviewer=product, decision="request_changes")
    with pytest.raises(SignOffRefused):
        sign_uat_run(run=_run(pilot), reviewer=product, decision="approve")

    assert SignOff.objects.get().reviewer_role == "Product"


def test_a_run_of_another_pilot_is_not_evidence():
    pilot = PilotFactory()

    with pytest.raises(SignOffRefused, match="is not one of"):
        sign_pilot(pilot=pilot, reviewer=_user("kim", QA_GROUP), decision="approve",
                   uat_run=_run(PilotFactory()))  # fmt: skip

    assert not SignOff.objects.exists()


def test_qa_signs_on_the_pilot_page_and_the_page_lists_it(client):
    pilot = PilotFactory()
    run = _run(pilot)
    client.force_login(_user("kim", QA_GROUP))
    change = reverse("admin:audit_pilot_change", args=[pilot.pk])
    assert 'id="sign-off-form"' in client.get(change).content.decode()

    client.post(reverse("admin:audit_pilot_sign", args=[pilot.pk]),
                {"decision": "approve", "notes": "UAT clean.", "uat_run": str(run.pk)})  # fmt: skip

    page = client.get(change).content.decode()
    assert "kim (QA) · <strong>approve</strong> · UAT clean." in page
    run_page = reverse("admin:audit_uatrun_change", args=[run.pk])
    assert f'<a href="{run_page}">uat_run:{run.pk}</a>' in page


def test_a_reviewer_who_may_only_read_gets_403_and_nothing_is_written(client):
    pilot = PilotFactory()
    reader = _user("vic")
    reader.user_permissions.add(Permission.objects.get(codename="view_pilot"))
    client.force_login(reader)

    page = client.get(reverse("admin:audit_pilot_change", args=[pilot.pk])).content.decode()
    response = client.post(reverse("admin:audit_pilot_sign", args=[pilot.pk]),
                           {"decision": "approve"})  # fmt: skip

    assert 'id="sign-off-form"' not in page
    assert response.status_code == 403
    assert not SignOff.objects.exists() and not TrailEntry.objects.filter(kind="sign_off").exists()


def test_qa_signs_a_uat_run_on_its_page_and_product_is_refused(client):
    run = _run(PilotFactory())
    sign = reverse("admin:audit_uatrun_sign", args=[run.pk])
    client.force_login(_user("pat", PRODUCT_GROUP))
    assert client.post(sign, {"decision": "approve"}).status_code == 403

    client.force_login(_user("kim", QA_GROUP))
    client.post(sign, {"decision": "reject", "notes": "chat check flaky"})

    page = client.get(reverse("admin:audit_uatrun_change", args=[run.pk])).content.decode()
    assert "kim (QA) · <strong>reject</strong> · chat check flaky" in page
    assert SignOff.objects.get().subject_kind == "uat_run"
