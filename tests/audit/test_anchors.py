"""verify_audit --anchor / --against: heads kept outside the database prove that
nothing before them was rewritten, even by someone who holds the key."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.chain import chain_hash
from audit.models import AuditVerification, CallRecord, ChainHead, TrailEntry
from audit.services import record_config_change
from audit.trail import TRAIL_HEAD_PK, entry_hash
from tests.audit.commands import run_verify_audit
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db


def _anchor() -> str:
    code, output = run_verify_audit("--anchor")
    assert code == 0, output
    return re.search(r"^Anchor: (\S+)$", output, re.M)[1]


def _rehash_from(seq: int, **changes: object) -> None:
    """Rewrite the record at `seq` and re-hash everything after it with the key,
    head and past verifications included: the chain is consistent again."""
    prev = CallRecord.objects.get(seq=seq).prev_hash
    for row in CallRecord.objects.filter(seq__gte=seq).order_by("seq"):
        if row.seq == seq:
            for name, value in changes.items():
                setattr(row, name, value)
        row.prev_hash = prev
        row.row_hash = prev = chain_hash(prev, row.__dict__)
        row.save()
    ChainHead.objects.filter(pk=1).update(row_hash=prev)
    AuditVerification.objects.all().delete()


def _change() -> None:
    record_config_change(
        actor="alice", request_id="", obj_repr="p", action="add", before=None, after={"a": 1}
    )


def test_the_anchor_names_both_heads():
    CallRecordFactory.create_batch(3)
    _change()

    anchor = _anchor()

    calls, trail = ChainHead.objects.get(pk=1), ChainHead.objects.get(pk=TRAIL_HEAD_PK)
    assert anchor == f"calls=3:{calls.row_hash},trail=1:{trail.row_hash}"
    assert run_verify_audit("--against", anchor)[0] == 0


def test_no_anchor_is_printed_for_a_broken_trail():
    records = CallRecordFactory.create_batch(2)
    CallRecord.objects.filter(pk=records[0].pk).update(output_tokens=0)

    code, output = run_verify_audit("--anchor")

    assert code == 1 and "Anchor:" not in output


def test_a_rewritten_chain_head_is_named_against_an_earlier_anchor():
    CallRecordFactory.create_batch(3)
    anchor = _anchor()
    _rehash_from(3, output_tokens=0)
    assert run_verify_audit()[0] == 0  # consistent: only the anchor can tell

    code, output = run_verify_audit("--against", anchor)

    assert code == 1
    record = CallRecord.objects.get(seq=3)
    assert f"rewritten record {record.pk}: record {record.pk} at seq 3 differs from the anchor" in (
        output
    )


def test_an_early_record_rewritten_is_named_against_a_later_anchor():
    CallRecordFactory.create_batch(4)
    anchor = _anchor()
    CallRecordFactory.create_batch(2)  # written after the anchor: fine
    _rehash_from(1, model="cheaper-model")

    code, output = run_verify_audit("--against", anchor)

    assert code == 1 and "at seq 4 differs from the anchor" in output


def test_records_cut_back_past_the_anchor_are_named():
    CallRecordFactory.create_batch(3)
    anchor = _anchor()
    CallRecord.objects.filter(seq__gt=1).delete()
    ChainHead.objects.filter(pk=1).update(seq=1, row_hash=CallRecord.objects.get(seq=1).row_hash)
    AuditVerification.objects.all().delete()
    assert run_verify_audit()[0] == 0

    code, output = run_verify_audit("--against", anchor)

    assert code == 1 and "the chain ends at 1, before the anchor's seq 3" in output


def test_a_rewritten_governance_trail_is_named_against_an_earlier_anchor():
    _change()
    _change()
    anchor = _anchor()
    entry = TrailEntry.objects.get(seq=2)
    entry.recorded_at -= timedelta(days=1)
    entry.row_hash = entry_hash(entry.prev_hash, entry.__dict__)
    entry.save()
    ChainHead.objects.filter(pk=TRAIL_HEAD_PK).update(row_hash=entry.row_hash)
    assert run_verify_audit()[0] == 0

    code, output = run_verify_audit("--against", anchor)

    assert code == 1 and f"rewritten trail 2: trail entry {entry.pk} at seq 2 differs" in output


def test_records_pruned_since_the_anchor_do_not_fail_it():
    CallRecordFactory.create_batch(3)
    anchor = _anchor()
    CallRecordFactory.create_batch(2)
    CallRecord.objects.filter(seq__lte=3).update(recorded_at=timezone.now() - timedelta(days=40))
    call_command("prune_audit", "--older-than", "30", "--skip-verify", stdout=StringIO())

    code, output = run_verify_audit("--against", anchor)

    assert code == 0, output


def test_a_malformed_anchor_is_refused():
    with pytest.raises(CommandError, match="calls=SEQ:HASH,trail=SEQ:HASH"):
        call_command("verify_audit", "--against", "calls=3:abc", stdout=StringIO())
