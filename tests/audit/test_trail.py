"""The governance trail: a governed row edited, deleted or inserted behind the
services is named by verify_audit, and so is an edited trail entry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from audit import trail
from audit.models import ConfigChange, TrailEntry
from audit.services import record_config_change
from tests.audit.commands import run_verify_audit

pytestmark = pytest.mark.django_db


def _change(n: int = 1) -> ConfigChange:
    return record_config_change(
        actor="alice", request_id=f"req-{n}", obj_repr=f"provider: lms-{n}", action="change",
        before={"timeout_seconds": 30.0}, after={"timeout_seconds": 12.5, "api_key": "sk-1"},
    )  # fmt: skip


def _sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(changes=ConfigChange._meta.db_table), params)


def test_each_configuration_change_joins_the_trail_and_verifies():
    changes = [_change(n) for n in range(3)]

    code, output = run_verify_audit()

    assert code == 0, output
    assert "3 trail entries checked, head at 3" in output
    entries = TrailEntry.objects.order_by("seq")
    assert [(e.kind, e.object_id) for e in entries] == [
        ("config_change", str(c.pk)) for c in changes
    ]
    assert entries[0].payload["after"] == {"timeout_seconds": 12.5, "api_key": "********"}


def test_a_configuration_change_updated_in_the_database_is_named():
    changes = [_change(n) for n in range(3)]

    _sql("UPDATE {changes} SET actor_name = 'mallory' WHERE id = %s", changes[1].pk)

    code, output = run_verify_audit()
    assert code == 1
    assert f"config change {changes[1].pk} was edited: actor_name differ from trail entry 2" in (
        output
    )


def test_a_configuration_change_deleted_in_the_database_is_named():
    changes = [_change(n) for n in range(2)]

    _sql("DELETE FROM {changes} WHERE id = %s", changes[0].pk)

    code, output = run_verify_audit()
    assert code == 1
    assert f"config change {changes[0].pk} was deleted (trail entry 1 names it)" in output


def test_a_configuration_change_inserted_behind_the_services_is_named():
    _change()
    forged = ConfigChange.objects.create(
        created_at=timezone.now(), actor_name="alice", object_repr="provider: x", action="delete"
    )

    code, output = run_verify_audit()
    assert code == 1
    assert f"config change {forged.pk} has no trail entry: inserted behind the services" in output


def test_an_entry_edited_to_match_an_edited_row_is_named():
    change = _change()
    ConfigChange.objects.filter(pk=change.pk).update(action="add")
    entry = TrailEntry.objects.get()
    entry.payload = {**entry.payload, "action": "add"}
    entry.save()

    code, output = run_verify_audit()
    assert code == 1
    assert f"edited    trail 1: trail entry {entry.pk} no longer matches its hash" in output


def test_a_deleted_entry_breaks_the_trail():
    _change(1), _change(2), _change(3)
    TrailEntry.objects.filter(seq=2).delete()

    code, output = run_verify_audit()
    assert code == 1
    assert "deleted   trail 2: seq 2 deleted" in output


@pytest.fixture
def governed_sessions() -> Iterator[str]:
    """A kind governed the way another app would govern its rows."""
    trail.govern("test_session", "sessions.Session", ("session_data", "expire_date"))
    yield "test_session"
    trail._GOVERNED.pop("test_session")


def test_another_apps_rows_join_the_trail_with_one_call(governed_sessions):
    store = SessionStore()
    store["reviewer"] = "qa"
    store.create()
    session = Session.objects.get(pk=store.session_key)
    trail.append(governed_sessions, session)
    assert run_verify_audit()[0] == 0

    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(days=9))

    code, output = run_verify_audit()
    assert code == 1
    assert f"session {session.pk} was edited: expire_date differ" in output


def test_rows_from_before_the_trail_are_adopted_as_they_are():
    # What migration audit.0004 does for a database that already has history.
    from django.apps import apps

    old = ConfigChange.objects.create(
        created_at=timezone.now(), actor_name="bob", object_repr="provider: old", action="add"
    )
    assert run_verify_audit()[0] == 1  # not yet in the trail

    assert trail.adopt_rows(apps, ["config_change"]) == 1

    assert run_verify_audit()[0] == 0
    assert TrailEntry.objects.get().object_id == str(old.pk)
