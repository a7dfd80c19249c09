"""Incremental verification: verify_audit checks the records written since the last
sealed, clean verification; `--full` (and every check against an anchor) walks
the whole chain; a forged or edited verification moves the start nowhere."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.chain import chain_hash
from audit.models import AuditVerification, CallRecord, ChainHead
from audit.verification import run_verification
from tests.audit.commands import run_verify_audit
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db


def test_a_second_verification_checks_only_the_new_records():
    CallRecordFactory.create_batch(5)
    assert run_verify_audit()[0] == 0
    CallRecordFactory.create_batch(3)

    code, output = run_verify_audit()

    assert code == 0, output
    assert "3 records checked (from seq 6), head at 8" in output
    latest = AuditVerification.objects.order_by("-pk").first()
    assert (latest.records_checked, latest.from_seq, latest.head_seq) == (3, 6, 8)


def test_an_edit_among_the_new_records_is_found():
    CallRecordFactory.create_batch(4)
    assert run_verify_audit()[0] == 0
    new = CallRecordFactory.create_batch(3)
    CallRecord.objects.filter(pk=new[1].pk).update(output_tokens=0)

    code, output = run_verify_audit()

    assert code == 1
    assert f"record {new[1].pk} no longer matches its hash" in output
    assert "3 records checked (from seq 5)" in output


def test_an_edit_before_the_verified_point_is_found_by_a_full_walk():
    old = CallRecordFactory.create_batch(4)
    assert run_verify_audit()[0] == 0
    CallRecordFactory.create_batch(2)
    CallRecord.objects.filter(pk=old[1].pk).update(output_tokens=0)

    # The incremental check reads only what was written since: it cannot see this.
    assert run_verify_audit()[0] == 0
    code, output = run_verify_audit("--full")

    assert code == 1
    assert f"record {old[1].pk} no longer matches its hash" in output
    assert "6 records checked (from seq 1)" in output


def test_a_check_against_an_anchor_walks_the_whole_chain():
    old = CallRecordFactory.create_batch(3)
    code, output = run_verify_audit("--anchor")
    anchor = re.search(r"^Anchor: (\S+)$", output, re.M)[1]
    CallRecord.objects.filter(pk=old[0].pk).update(output_tokens=0)

    code, output = run_verify_audit("--against", anchor)

    assert code == 1 and f"record {old[0].pk} no longer matches its hash" in output


def test_a_verification_inserted_by_hand_is_not_trusted():
    records = CallRecordFactory.create_batch(4)
    CallRecord.objects.filter(pk=records[0].pk).update(output_tokens=0)
    head = ChainHead.objects.get(pk=1)
    AuditVerification.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), actor="nobody", ok=True,
        records_checked=4, head_seq=head.seq, head_hash=head.row_hash,
    )  # fmt: skip  # no seal: whoever wrote it held no key

    code, output = run_verify_audit()

    assert code == 1
    assert f"record {records[0].pk} no longer matches its hash" in output
    assert "4 records checked (from seq 1)" in output


def test_an_edited_verification_is_named_and_the_whole_chain_walked():
    records = CallRecordFactory.create_batch(3)
    assert run_verify_audit()[0] == 0
    CallRecordFactory.create_batch(2)
    assert run_verify_audit()[0] == 0
    # Someone edits an early record, then moves the last verified point past it
    # by editing the newest verification's figures: its seal no longer matches.
    CallRecord.objects.filter(pk=records[0].pk).update(output_tokens=0)
    latest = AuditVerification.objects.order_by("-pk").first()
    AuditVerification.objects.filter(pk=latest.pk).update(records_checked=5, from_seq=1)

    code, output = run_verify_audit()

    assert code == 1
    assert f"verification {latest.pk} does not match its seal" in output
    assert f"record {records[0].pk} no longer matches its hash" in output
    assert "5 records checked (from seq 1)" in output


def test_the_verified_record_itself_is_read_again():
    records = CallRecordFactory.create_batch(3)
    assert run_verify_audit()[0] == 0
    CallRecordFactory.create_batch(1)
    row = CallRecord.objects.get(pk=records[-1].pk)
    row.model = "cheaper-model"  # row_hash kept: only its own hash can tell
    row.save()

    code, output = run_verify_audit()

    assert code == 1
    assert f"record {row.pk} changed since the verification that ended on it" in output


def test_a_deleted_verified_record_is_named():
    records = CallRecordFactory.create_batch(3)
    assert run_verify_audit()[0] == 0
    CallRecordFactory.create_batch(2)
    CallRecord.objects.filter(pk=records[-1].pk).delete()

    code, output = run_verify_audit()

    assert code == 1 and "seq 3, the last verified record, was deleted" in output


def test_after_a_prune_past_the_verified_point_the_walk_starts_at_the_checkpoint():
    old = CallRecordFactory.create_batch(3)
    assert run_verify_audit()[0] == 0
    older = CallRecordFactory.create_batch(2)
    CallRecordFactory.create_batch(2)
    # recorded_at is audited: ageing by hand reads as an edit, so prune unverified.
    CallRecord.objects.filter(pk__in=[r.pk for r in old + older]).update(
        recorded_at=timezone.now() - timedelta(days=40)
    )
    call_command("prune_audit", "--older-than", "30", "--skip-verify", stdout=StringIO())

    code, output = run_verify_audit()

    assert code == 0, output
    assert "2 records checked (from seq 6), head at 7" in output


def test_the_admin_check_is_incremental_too():
    CallRecordFactory.create_batch(4)
    run_verification(actor="admin:qa")
    CallRecordFactory.create_batch(2)

    check = run_verification(actor="admin:qa")

    assert (check.ok, check.records_checked, check.from_seq) == (True, 2, 5)
    assert check.seal and check.key_id == "test-2026"


def test_without_a_trail_key_nothing_is_sealed_and_every_check_walks_it_all(settings):
    settings.AUDIT_TRAIL_KEYS = ()
    CallRecordFactory.create_batch(3)
    first = run_verification(actor="test")
    CallRecordFactory.create_batch(1)

    second = run_verification(actor="test")

    assert first.ok and not first.seal
    assert (second.records_checked, second.from_seq) == (4, 1)


def test_a_verification_sealed_under_a_dropped_key_is_not_a_start(settings):
    CallRecordFactory.create_batch(3)
    assert run_verify_audit()[0] == 0
    settings.AUDIT_TRAIL_KEYS = (("2027", "a-newer-trail-key-0123456789abcdef"),)
    (row,) = CallRecordFactory.create_batch(1)

    check = run_verification(actor="test")

    # The old records name a key no longer listed, and the walk says so.
    assert check.from_seq == 1 and not check.ok
    assert any("names key 'test-2026'" in p["detail"] for p in check.problems)
    assert chain_hash(row.prev_hash, row.__dict__) == row.row_hash
