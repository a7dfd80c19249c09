"""Sign-offs and configuration versions belong to the governance trail: one
changed or deleted directly in the database, where the ORM's guards do not
reach, is named by verify_audit; written through the services, both verify."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.models import SignOff, TrailEntry
from audit.services import record_sign_off
from routing.models import ConfigVersion, VersionStatus
from routing.versions import publish_working_copy
from tests.audit.commands import run_verify_audit
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


def _sign_off(decision: str = "reject") -> SignOff:
    return record_sign_off(
        subject_kind="release", subject_id="r1@2", subject_label="release r1",
        decision=decision, reviewer="quinn", reviewer_role="QA", notes="Not yet.",
    )  # fmt: skip


def _sql(statement: str, table: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=connection.ops.quote_name(table)), params)


def test_sign_offs_and_versions_join_the_trail_andrun_verify_audit(settings):
    settings.LLMCALLER_CONFIG_REVIEW = "required"
    ProviderFactory(key="lms")
    version = publish_working_copy(author="olivia", source="admin")
    sign_off = _sign_off()

    assert set(TrailEntry.objects.values_list("kind", "object_id")) >= {
        ("config_version", str(version.pk)), ("sign_off", str(sign_off.pk)),
    }  # fmt: skip
    code, output = run_verify_audit()
    assert code == 0, output


def test_a_sign_off_rewritten_in_the_database_is_named():
    sign_off = _sign_off("reject")

    _sql("UPDATE {table} SET decision = 'approve' WHERE id = %s", SignOff._meta.db_table,
         sign_off.pk)  # fmt: skip

    code, output = run_verify_audit()
    assert code == 1
    assert f"sign-off {sign_off.pk} was edited: decision differ" in output


def test_a_sign_off_deleted_in_the_database_is_named():
    sign_off = _sign_off()

    _sql("DELETE FROM {table} WHERE id = %s", SignOff._meta.db_table, sign_off.pk)

    code, output = run_verify_audit()
    assert code == 1
    assert f"sign-off {sign_off.pk} was deleted" in output


def test_a_pending_version_marked_approved_in_the_database_is_named(settings):
    # Marked approved, it could be re-activated without review.
    settings.LLMCALLER_CONFIG_REVIEW = "required"
    ProviderFactory(key="lms")
    version = publish_working_copy(author="olivia", source="admin")

    ConfigVersion.objects.filter(pk=version.pk).update(status=VersionStatus.APPROVED)

    code, output = run_verify_audit()
    assert code == 1
    assert f"configuration version {version.pk} was edited: status differ" in output
