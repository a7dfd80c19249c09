"""verify_audit: an edit, a deletion and an insertion are each reported by record,
whether made through the ORM or straight in the database; forged checkpoints,
re-keyed and downgraded records too."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.chain import chain_hash
from audit.models import AuditVerification, CallRecord, ChainHead, PruneCheckpoint
from audit.retention import _checkpoint
from audit.services import record_config_change
from tests.audit.commands import run_verify_audit
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db


def test_an_intact_trail_verifies_and_the_check_is_recorded():
    CallRecordFactory.create_batch(5)

    code, output = run_verify_audit()

    assert code == 0, output
    assert "Audit trail intact: 5 records checked" in output
    verification = AuditVerification.objects.get()
    assert verification.ok and verification.head_seq == 5


def test_an_edited_record_is_reported_by_id():
    records = CallRecordFactory.create_batch(5)
    CallRecord.objects.filter(pk=records[2].pk).update(output_tokens=1)

    code, output = run_verify_audit()

    assert code == 1
    assert f"edited    record {records[2].pk}: record {records[2].pk} no longer matches" in output
    assert not AuditVerification.objects.get().ok


def test_an_edit_that_rehashes_the_row_breaks_the_next_link():
    records = CallRecordFactory.create_batch(4)
    row = CallRecord.objects.get(pk=records[1].pk)
    row.outcome = "upstream_error"
    row.row_hash = chain_hash(row.prev_hash, row.__dict__)
    row.save()

    code, output = run_verify_audit()

    assert code == 1
    assert f"relinked  record {records[2].pk}" in output
    assert f"or {records[1].pk} edited and re-hashed" in output


def test_a_deleted_record_is_reported_between_its_neighbours():
    records = CallRecordFactory.create_batch(5)
    CallRecord.objects.filter(pk=records[2].pk).delete()

    code, output = run_verify_audit()

    assert code == 1
    assert f"seq 3 deleted (between record {records[1].pk} and record {records[3].pk})" in output


def test_deleting_the_last_record_is_caught_by_the_chain_head():
    records = CallRecordFactory.create_batch(3)
    CallRecord.objects.filter(pk=records[-1].pk).delete()

    code, output = run_verify_audit()

    assert code == 1
    assert f"seq 3 deleted (after record {records[1].pk})" in output


def test_an_inserted_record_is_reported_by_id():
    CallRecordFactory.create_batch(3)
    forged = CallRecordFactory.build()
    last = CallRecord.objects.order_by("-seq").first()
    row = CallRecord(
        **{name: getattr(forged, name) for name in ("request_id", "method", "outcome")},
        started_at=forged.started_at, recorded_at=forged.started_at, seq=4,
        prev_hash=last.row_hash,
    )  # fmt: skip
    row.row_hash = chain_hash(row.prev_hash, row.__dict__)  # a well-formed forgery
    row.save()

    code, output = run_verify_audit()

    assert code == 1
    assert f"inserted  record {row.pk}: record {row.pk} is past the chain head" in output


def test_rewriting_the_tail_after_a_verification_is_caught():
    CallRecordFactory.create_batch(3)
    assert run_verify_audit()[0] == 0
    last = CallRecord.objects.get(seq=3)
    last.output_tokens = 0
    last.row_hash = chain_hash(last.prev_hash, last.__dict__)
    last.save()
    ChainHead.objects.update(row_hash=last.row_hash)

    code, output = run_verify_audit()

    assert code == 1
    assert "changed since the verification that ended on it" in output


def _sql(statement: str, *params: object) -> None:
    """A statement run straight on the database, as someone with write access would."""
    with connection.cursor() as cursor:
        cursor.execute(statement.format(calls=CallRecord._meta.db_table), params)


def test_an_update_made_in_the_database_is_named():
    records = CallRecordFactory.create_batch(3)

    _sql("UPDATE {calls} SET output_tokens = 0, message = 'quiet' WHERE id = %s", records[1].pk)

    code, output = run_verify_audit()
    assert code == 1
    assert f"edited    record {records[1].pk}: record {records[1].pk} no longer matches" in output


def test_a_delete_made_in_the_database_is_named():
    records = CallRecordFactory.create_batch(3)

    _sql("DELETE FROM {calls} WHERE id = %s", records[1].pk)

    code, output = run_verify_audit()
    assert code == 1
    assert f"seq 2 deleted (between record {records[0].pk} and record {records[2].pk})" in output


def test_the_fields_added_since_are_audited_in_keyed_records():
    (record,) = CallRecordFactory.create_batch(1, source_address="10.0.0.7")

    _sql("UPDATE {calls} SET source_address = '10.9.9.9' WHERE id = %s", record.pk)

    code, output = run_verify_audit()
    assert code == 1 and f"record {record.pk} no longer matches its hash" in output


def test_a_forged_prune_checkpoint_hides_nothing():
    # Before the fix, a checkpoint carrying the head's seq and hash made the walk
    # start after the head: "intact, 0 records checked".
    records = CallRecordFactory.create_batch(3)
    CallRecord.objects.filter(pk=records[0].pk).update(input_tokens=0)
    head = ChainHead.objects.get()
    forged = PruneCheckpoint.objects.create(
        created_at=timezone.now(), actor="nobody", cutoff=timezone.now(),
        seq=head.seq, row_hash=head.row_hash,
    )  # fmt: skip

    code, output = run_verify_audit()

    assert code == 1
    assert f"prune checkpoint {forged.pk} has no trail entry" in output
    assert f"record {records[0].pk} no longer matches its hash" in output
    assert "3 records checked" in output


def test_a_pruned_chain_still_names_a_checkpoint_edited_afterwards():
    old = CallRecordFactory.create_batch(3)
    CallRecordFactory.create_batch(2)
    CallRecord.objects.filter(pk__in=[r.pk for r in old]).update(
        recorded_at=timezone.now() - timedelta(days=40)
    )
    call_command("prune_audit", "--older-than", "30", "--skip-verify", stdout=StringIO())
    assert run_verify_audit()[0] == 0
    checkpoint = PruneCheckpoint.objects.get()

    PruneCheckpoint.objects.filter(pk=checkpoint.pk).update(seq=4, row_hash="0" * 64)

    code, output = run_verify_audit()
    assert code == 1
    assert f"prune checkpoint {checkpoint.pk} was edited: row_hash, seq differ" in output
    assert "seq 1–3 deleted" in output  # no longer vouched for: its gap is a deletion


def test_an_entry_rehashed_under_a_key_nobody_configured_is_named(settings):
    records = CallRecordFactory.create_batch(3)
    row = CallRecord.objects.get(pk=records[1].pk)
    settings.AUDIT_TRAIL_KEYS = (*settings.AUDIT_TRAIL_KEYS, ("forger", "f" * 40))
    row.output_tokens, row.key_id = 0, "forger"
    row.row_hash = chain_hash(row.prev_hash, row.__dict__)
    row.save()
    settings.AUDIT_TRAIL_KEYS = settings.AUDIT_TRAIL_KEYS[:1]

    code, output = run_verify_audit()

    assert code == 1
    assert f"unknown key record {row.pk}: record {row.pk} names key 'forger'" in output


def test_an_entry_rehashed_without_a_key_after_keyed_ones_is_named():
    records = CallRecordFactory.create_batch(3)
    row = CallRecord.objects.get(pk=records[2].pk)
    row.output_tokens, row.key_id = 0, ""
    row.row_hash = chain_hash(row.prev_hash, row.__dict__)  # plain sha256: no key needed
    row.save()
    ChainHead.objects.update(row_hash=row.row_hash)

    code, output = run_verify_audit()

    assert code == 1
    assert f"downgraded record {row.pk}: record {row.pk} has no key after keyed ones" in output


def test_entries_under_the_old_key_verify_after_a_new_key_is_added(settings):
    old_key = settings.AUDIT_TRAIL_KEYS[0]
    CallRecordFactory.create_batch(2)
    record_config_change(
        actor="alice", request_id="", obj_repr="p", action="add", before=None, after={"a": 1}
    )
    settings.AUDIT_TRAIL_KEYS = (("2027", "a-newer-trail-key-0123456789abcdef"), old_key)
    CallRecordFactory.create_batch(2)

    code, output = run_verify_audit()

    assert code == 0, output
    assert list(CallRecord.objects.order_by("seq").values_list("key_id", flat=True)) == [
        "test-2026", "test-2026", "2027", "2027",
    ]  # fmt: skip
    settings.AUDIT_TRAIL_KEYS = settings.AUDIT_TRAIL_KEYS[:1]  # the old key dropped too soon
    code, output = run_verify_audit()
    assert code == 1 and output.count("names key 'test-2026'") == 3  # 2 records, 1 entry


def test_records_an_interrupted_prune_left_behind_stillrun_verify_audit():
    records = CallRecordFactory.create_batch(5)
    now = timezone.now()
    _checkpoint(records[2], cutoff=now, now=now, actor="prune")  # then stopped after one chunk
    CallRecord.objects.filter(seq=1).delete()
    assert run_verify_audit()[0] == 0

    CallRecord.objects.filter(seq=3).update(output_tokens=0)

    # seq 3 lies before the verified point: only a whole walk reads it again.
    code, output = run_verify_audit("--full")
    assert code == 1 and f"record {records[2].pk} no longer matches its hash" in output
