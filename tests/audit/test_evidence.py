"""Evidence packs: `export_evidence` then `verify_audit --evidence` passes, also
after later calls and sign-offs; a call record, a sign-off or a checklist tick
changed in the database behind the services fails it, naming the section."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import CallRecord, ChecklistItem, Pilot, Release, SignOff
from audit.pilot_sign_offs import sign_pilot
from audit.pilots import CheckData, UatRunData, record_uat_run, seed_checklist, tick
from audit.releases import sign_release
from audit.roles import QA_GROUP
from routing.versions import publish_working_copy
from tests.audit.commands import run_verify_audit
from tests.audit.factories import CallRecordFactory, PilotFactory
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def qa():
    user = get_user_model().objects.create_user("kim", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=QA_GROUP))
    return user


@pytest.fixture
def pilot(qa) -> Pilot:
    ProviderFactory(key="lms")
    publish_working_copy(author="olivia", source="admin")
    ProviderFactory(key="cloud")  # version 2, with a diff against version 1
    version = publish_working_copy(author="olivia", source="admin").number
    pilot = PilotFactory(name="notebook-pilot")
    seed_checklist(pilot)
    tick(pilot.checklist.get(key="limits-confirmed"), actor="olga", at=AT)
    for latency in (100, 200, 300):
        CallRecordFactory(started_at=AT, latency_ms=latency, config_version=version)
    run = record_uat_run(UatRunData(
        pilot=pilot, trigger="command", actor="olga", gateway_url="http://127.0.0.1:4037",
        client_name="notebook", caller_tool="notebook-cli", started_at=AT, finished_at=AT,
        checks=(CheckData("chat", "passed", "", 12.5, ("uat-1",)),), config_version=version,
    ))  # fmt: skip
    sign_pilot(pilot=pilot, reviewer=qa, decision="approve", notes="UAT clean.", uat_run=run)
    return pilot


def _export(tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "pack.json"
    call_command("export_evidence", *args, "--output", str(path), stderr=StringIO())
    return path


def _verify(path: Path) -> tuple[int, str]:
    return run_verify_audit("--evidence", str(path))


def _sql(statement: str, model: type, *params: object) -> None:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(statement.format(table=table), params)


def test_a_pilots_pack_holds_every_section_and_verifies(pilot, tmp_path):
    pack = json.loads(_export(tmp_path, "--pilot", "notebook-pilot").read_text())

    sections = pack["sections"]
    assert sections["subject"] == json.loads(json.dumps(pilot.canonical_payload()))
    (sign_off,) = sections["sign_offs"]["signOffs"]
    run_id = pilot.uat_runs.get().pk
    assert sign_off["evidence"] == [f"uat_run:{run_id}"] and sign_off["uatRuns"] == [run_id]
    assert [r["id"] for r in sections["uat_runs"]["runs"]] == [str(run_id)]
    configuration = sections["configuration"]
    assert (configuration["number"], configuration["chosenBy"]) == (2, f"UAT run {run_id}")
    assert configuration["previous"]["number"] == 1
    assert ["provider cloud added"] == [f"{c['section']} {c['key']} {c['action']}"
                                        for c in configuration["diff"]][:1]  # fmt: skip
    (chat,) = sections["calls"]["byMethod"]
    assert (chat["method"], chat["calls"], chat["mean_ms"], chat["max_ms"]) == ("chat", 3, 200, 300)
    assert sections["anchor"]["calls"]["seq"] == CallRecord.objects.count()
    canonical = json.dumps(sections["calls"], sort_keys=True, separators=(",", ":"))
    assert pack["sectionSha256"]["calls"] == hashlib.sha256(canonical.encode()).hexdigest()
    code, output = _verify(tmp_path / "pack.json")
    assert code == 0, output


def test_calls_and_sign_offs_after_the_export_leave_the_pack_verifiable(pilot, qa, tmp_path):
    path = _export(tmp_path, "--pilot", "notebook-pilot")

    CallRecordFactory(started_at=AT, latency_ms=5000, outcome="upstream_error")
    sign_pilot(pilot=pilot, reviewer=qa, decision="reject", notes="Second thoughts.")

    code, output = _verify(path)
    assert code == 0, output


def test_a_call_record_edited_in_the_database_fails_the_pack(pilot, tmp_path):
    path = _export(tmp_path, "--pilot", "notebook-pilot")
    record = CallRecord.objects.order_by("seq").first()

    _sql("UPDATE {table} SET latency_ms = 90 WHERE id = %s", CallRecord, record.pk)

    code, output = _verify(path)
    assert code == 1
    assert "section calls differs from the database at: byMethod[0].mean_ms" in output
    assert f"record {record.pk}: record {record.pk} no longer matches its hash" in output


def test_a_call_outcome_edited_in_the_database_fails_a_releases_pack(pilot, tmp_path):
    Release.objects.create(name="2026.12", config_version=2)
    path = _export(tmp_path, "--release", "2026.12")
    record = CallRecord.objects.order_by("seq").last()

    _sql("UPDATE {table} SET outcome = 'upstream_error' WHERE id = %s", CallRecord, record.pk)

    code, output = _verify(path)
    assert code == 1
    assert (
        "section calls differs from the database at: byMethod[0].error_rate, byMethod[0].errors"
        in output
    )


def test_a_sign_off_edited_in_the_database_fails_the_pack(pilot, tmp_path):
    path = _export(tmp_path, "--pilot", "notebook-pilot")
    sign_off = SignOff.objects.get()

    _sql("UPDATE {table} SET notes = 'UAT had one failure.' WHERE id = %s", SignOff, sign_off.pk)

    code, output = _verify(path)
    assert code == 1
    assert "section sign_offs differs from the database at: signOffs[0].notes" in output
    assert f"sign-off {sign_off.pk} was edited: notes differ" in output


def test_a_checklist_tick_edited_in_the_database_fails_the_pack(pilot, tmp_path):
    path = _export(tmp_path, "--pilot", "notebook-pilot")
    item = pilot.checklist.get(key="limits-confirmed")

    _sql("UPDATE {table} SET done_by = 'mallory', done_at = %s WHERE id = %s", ChecklistItem,
         AT + dt.timedelta(days=3), item.pk)  # fmt: skip

    code, output = _verify(path)
    assert code == 1
    assert "section subject differs from the database at: checklist[" in output
    assert "].doneAt, checklist[" in output and "].doneBy" in output


def test_a_pack_changed_after_export_names_its_digests(pilot, tmp_path):
    path = _export(tmp_path, "--pilot", "notebook-pilot")
    pack = json.loads(path.read_text())
    pack["sections"]["subject"]["owner"] = "someone else"
    path.write_text(json.dumps(pack))

    code, output = _verify(path)
    assert code == 1
    assert "section subject does not match the pack's own sha256" in output
    assert "the pack's digest does not match its sections" in output
    assert "section calls" not in output


def test_a_releases_pack_has_its_gate_and_the_runs_of_its_version(pilot, qa, tmp_path):
    release = Release.objects.create(name="2026.12", config_version=2, required_roles=["QA"])
    sign_release(release=release, reviewer=qa, decision="approve")
    pack = json.loads(_export(tmp_path, "--release", "2026.12").read_text())

    subject = pack["sections"]["subject"]
    assert (subject["name"], subject["configVersion"], subject["gate"]) == (
        "2026.12", 2, {"met": True, "approved": ["QA"], "missing": []})  # fmt: skip
    assert [s["subject_kind"] for s in pack["sections"]["sign_offs"]["signOffs"]] == ["release"]
    assert len(pack["sections"]["uat_runs"]["runs"]) == 1
    assert pack["sections"]["calls"]["byMethod"][0]["calls"] == 3
    code, output = _verify(tmp_path / "pack.json")
    assert code == 0, output


def test_an_unknown_subject_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="No pilot is named 'nobody'"):
        _export(tmp_path, "--pilot", "nobody")


def test_a_file_that_is_no_pack_is_refused(db, tmp_path):
    path = tmp_path / "pack.json"
    path.write_text(json.dumps({"format": "llm-caller evidence pack 1", "sections": {}}))

    code, output = _verify(path)

    assert code == 1 and "does not have the sections" in output
