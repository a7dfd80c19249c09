"""Sign-offs: recorded once with the reviewer's role, never changed or deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import SignOff, SignOffIsFinal
from audit.services import record_sign_off

pytestmark = pytest.mark.django_db


def _sign_off(**overrides) -> SignOff:
    values = {
        "subject_kind": "release", "subject_id": "2026.12", "subject_label": "release 2026.12",
        "decision": "approve", "reviewer": "quinn", "reviewer_role": "QA",
        "notes": "UAT passed.", "evidence": ["https://ci.example/run/7", ""],
    } | overrides  # fmt: skip
    return record_sign_off(**values)


def test_a_sign_off_names_its_subject_reviewer_role_and_evidence():
    sign_off = _sign_off()

    stored = SignOff.objects.get()
    assert (stored.subject_kind, stored.subject_id, stored.decision) == (
        "release",
        "2026.12",
        "approve",
    )
    assert (stored.reviewer_name, stored.reviewer_role) == ("quinn", "QA")
    assert stored.evidence == ["https://ci.example/run/7"]  # empty links dropped
    assert sign_off.canonical_payload()["notes"] == "UAT passed."


def test_an_unknown_decision_is_refused():
    with pytest.raises(ValueError, match="Unknown sign-off decision"):
        _sign_off(decision="maybe")


def test_a_sign_off_cannot_be_changed_or_deleted_through_the_orm():
    sign_off = _sign_off()

    sign_off.decision = "reject"
    with pytest.raises(SignOffIsFinal):
        sign_off.save()
    with pytest.raises(SignOffIsFinal):
        sign_off.delete()
    with pytest.raises(SignOffIsFinal):
        SignOff.objects.filter(pk=sign_off.pk).update(decision="reject")
    with pytest.raises(SignOffIsFinal):
        SignOff.objects.all().delete()
    with pytest.raises(SignOffIsFinal):
        SignOff.objects.bulk_update([sign_off], ["decision"])
    assert SignOff.objects.get().decision == "approve"


def test_not_even_a_superuser_can_add_change_or_delete_one_in_the_admin(admin_client):
    sign_off = _sign_off()

    change = admin_client.post(
        reverse("admin:audit_signoff_change", args=[sign_off.pk]), {"decision": "reject"}
    )
    delete = admin_client.post(
        reverse("admin:audit_signoff_delete", args=[sign_off.pk]), {"post": "yes"}
    )
    add = admin_client.get(reverse("admin:audit_signoff_add"))

    assert change.status_code == 403 and delete.status_code == 403 and add.status_code == 403
    assert admin_client.get(reverse("admin:audit_signoff_changelist")).status_code == 200
    assert SignOff.objects.get().decision == "approve"
