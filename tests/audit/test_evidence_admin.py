"""The admin's "Export the evidence pack" action on releases and pilots: a JSON
download for whoever may read the list, one subject at a time, refused (403)
to someone who may not."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from audit.models import Release
from audit.roles import ASSESSORS_GROUP
from tests.audit.factories import PilotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessor_client(client):
    user = get_user_model().objects.create_user("ada", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=ASSESSORS_GROUP))
    client.force_login(user)
    return client


def _export(client, changelist: str, pk: int):
    return client.post(reverse(changelist), {"action": "export_evidence", "_selected_action": [pk]})


def test_an_assessor_downloads_a_releases_pack(assessor_client):
    release = Release.objects.create(name="2026.12", config_version=3)

    response = _export(assessor_client, "admin:audit_release_changelist", release.pk)

    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith(
        'attachment; filename="evidence-release-2026.12-'
    )
    pack = json.loads(response.content)
    assert pack["of"] == {"kind": "release", "name": "2026.12"}
    assert pack["sections"]["subject"]["configVersion"] == 3
    assert pack["sections"]["configuration"] == {"number": 3, "chosenBy": "release 2026.12",
                                                 "missing": True}  # fmt: skip
    assert pack["exportedBy"] == "admin:ada"


def test_an_assessor_downloads_a_pilots_pack(assessor_client):
    pilot = PilotFactory(name="notebook-pilot")

    response = _export(assessor_client, "admin:audit_pilot_changelist", pilot.pk)

    assert 'filename="evidence-pilot-notebook-pilot-' in response["Content-Disposition"]
    pack = json.loads(response.content)
    assert pack["sections"]["subject"]["name"] == "notebook-pilot"
    assert set(pack["sectionSha256"]) == {"subject", "sign_offs", "configuration", "uat_runs",
                                          "calls", "anchor"}  # fmt: skip


def test_two_pilots_at_once_are_refused_with_a_message(assessor_client):
    pilots = [PilotFactory(), PilotFactory()]

    response = assessor_client.post(
        reverse("admin:audit_pilot_changelist"),
        {"action": "export_evidence", "_selected_action": [p.pk for p in pilots]}, follow=True,
    )  # fmt: skip

    assert "Select one to export its evidence pack." in response.content.decode()


def test_the_action_is_refused_to_someone_who_may_not_read_pilots(client):
    user = get_user_model().objects.create_user("otto", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_release"))
    client.force_login(user)

    response = _export(client, "admin:audit_pilot_changelist", PilotFactory().pk)

    assert response.status_code == 403
