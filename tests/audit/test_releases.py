"""Release gates: met when every required role approved the same version."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from audit.models import Release
from audit.releases import gate_status, pending_gates, sign_release

pytestmark = pytest.mark.django_db


def _reviewer(name: str, role: str) -> User:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def release() -> Release:
    return Release.objects.create(name="2026.12", config_version=4,
                                  required_roles=["QA", "assessor"])  # fmt: skip


def test_the_gate_is_met_once_every_required_role_approved(release):
    sign_release(release=release, reviewer=_reviewer("quinn", "QA"), decision="approve")
    assert gate_status(release).missing == ("assessor",)
    assert pending_gates() and pending_gates()[0].release == release

    sign_release(release=release, reviewer=_reviewer("ada", "assessor"), decision="approve")

    assert gate_status(release).met
    assert pending_gates() == []


def test_a_later_version_invalidates_earlier_approvals(release):
    for name, role in (("quinn", "QA"), ("ada", "assessor")):
        sign_release(release=release, reviewer=_reviewer(name, role), decision="approve")
    release.config_version = 5
    release.save()

    assert gate_status(release).missing == ("QA", "assessor")


def test_a_later_rejection_by_a_role_unmeets_the_gate(release):
    qa = _reviewer("quinn", "QA")
    sign_release(release=release, reviewer=qa, decision="approve")
    sign_release(release=release, reviewer=_reviewer("ada", "assessor"), decision="approve")
    sign_release(release=release, reviewer=qa, decision="reject", notes="Regression found.")

    assert gate_status(release).missing == ("QA",)


def test_signing_in_the_admin_needs_a_required_role(release, client):
    outsider = _reviewer("pat", "product")
    outsider.is_superuser = True
    outsider.save()
    client.force_login(outsider)

    response = client.post(reverse("admin:audit_release_sign", args=[release.pk]),
                           {"decision": "approve"}, follow=True)  # fmt: skip

    assert "is not one this release&#x27;s gate asks for" in response.content.decode()
    assert gate_status(release).approved == ()


def test_a_reviewer_signs_in_the_admin_and_the_page_shows_the_gate(release, client):
    reviewer = _reviewer("quinn", "QA")
    reviewer.is_superuser = True
    reviewer.save()
    client.force_login(reviewer)

    client.post(reverse("admin:audit_release_sign", args=[release.pk]),
                {"decision": "approve", "notes": "UAT run 12 passed."})  # fmt: skip
    page = client.get(reverse("admin:audit_release_change", args=[release.pk])).content.decode()

    assert "not met for version 4: waiting for assessor" in page
    assert gate_status(release).approved == ("QA",)


def test_one_reviewer_in_two_required_roles_signs_for_one_of_them(release):
    both = _reviewer("quinn", "QA")
    both.groups.add(Group.objects.get_or_create(name="assessor")[0])

    sign_release(release=release, reviewer=both, decision="approve")

    assert len(gate_status(release).approved) == 1
    sign_release(release=release, reviewer=_reviewer("ada", "assessor"), decision="approve")
    assert gate_status(release).met  # quinn signs for QA, ada for the assessors


def test_a_user_without_a_sign_off_permission_cannot_sign_in_the_admin(release, client):
    viewer = _reviewer("vic", "assessor")  # a required role's name, without its permissions
    viewer.user_permissions.add(Permission.objects.get(codename="view_release"))
    client.force_login(viewer)

    response = client.post(reverse("admin:audit_release_sign", args=[release.pk]),
                           {"decision": "approve"})  # fmt: skip

    assert response.status_code == 403
    assert gate_status(release).approved == ()
