"""verify_audit: an edit, a deletion and an insertion are each reported by record."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.chain import chain_hash
from audit.models import AuditVerification, CallRecord, ChainHead
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db


def _verify() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_an_intact_trail_verifies_and_the_check_is_recorded():
    CallRecordFactory.create_batch(5)

    code, output = _verify()

    assert code == 0, output
    assert "Audit trail intact: 5 records checked" in output
    verification = AuditVerification.objects.get()
    assert verification.ok and verification.head_seq == 5


def test_an_edited_record_is_reported_by_id():
    records = CallRecordFactory.create_batch(5)
    CallRecord.objects.filter(pk=records[2].pk).update(output_tokens=1)

    code, output = _verify()

    assert code == 1
    assert f"edited    record {records[2].pk}: record {records[2].pk} no longer matches" in output
    assert not AuditVerification.objects.get().ok


def test_an_edit_that_rehashes_the_row_breaks_the_next_link():
    records = CallRecordFactory.create_batch(4)
    row = CallRecord.objects.get(pk=records[1].pk)
    row.outcome = "upstream_error"
    row.row_hash = chain_hash(row.prev_hash, row.__dict__)
    row.save()

    code, output = _verify()

    assert code == 1
    assert f"relinked  record {records[2].pk}" in output
    assert f"or {records[1].pk} edited and re-hashed" in output


def test_a_deleted_record_is_reported_between_its_neighbours():
    records = CallRecordFactory.create_batch(5)
    CallRecord.objects.filter(pk=records[2].pk).delete()

    code, output = _verify()

    assert code == 1
    assert f"seq 3 deleted (between record {records[1].pk} and record {records[3].pk})" in output


def test_deleting_the_last_record_is_caught_by_the_chain_head():
    records = CallRecordFactory.create_batch(3)
    CallRecord.objects.filter(pk=records[-1].pk).delete()

    code, output = _verify()

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

    code, output = _verify()

    assert code == 1
    assert f"inserted  record {row.pk}: record {row.pk} is past the chain head" in output


def test_rewriting_the_tail_after_a_verification_is_caught():
    CallRecordFactory.create_batch(3)
    assert _verify()[0] == 0
    last = CallRecord.objects.get(seq=3)
    last.output_tokens = 0
    last.row_hash = chain_hash(last.prev_hash, last.__dict__)
    last.save()
    ChainHead.objects.update(row_hash=last.row_hash)

    code, output = _verify()

    assert code == 1
    assert "changed since the verification that ended on it" in output
