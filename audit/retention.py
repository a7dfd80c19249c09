"""Retention: deleting old call records and expired texts, audited, chain intact.

`prune_call_records` rolls up first (the roll-ups keep the numbers), then writes
a PruneCheckpoint naming the last record it will delete (its seq and hash) and a
ConfigChange saying who pruned what, both chained into the governance trail, and
only then deletes, in chunks that each commit on their own, so writers are never
held up. Verification accepts the gap a checkpoint the trail vouches for covers,
so what survives still verifies; rows an interrupted run left below the
checkpoint are deleted by the next run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit import trail
from audit.models import CallContent, CallRecord, PruneCheckpoint
from audit.rollups import roll_up_hours
from audit.services import record_config_change

CHUNK = 10_000


def prune_call_records(*, older_than_days: int, actor: str) -> PruneCheckpoint | None:
    """Delete records recorded more than `older_than_days` ago and expired texts."""
    now = timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    roll_up_hours()
    expired = _delete_expired_contents(now)
    # The newest record recorded before the cutoff, through the recorded_at index:
    # "the highest seq before it" would walk seq back over every newer record.
    # recorded_at is taken under the chain head's lock, so it rises with seq.
    before = CallRecord.objects.filter(recorded_at__lt=cutoff)
    last = before.order_by("-recorded_at", "-seq").first()
    if last is None:
        return None
    checkpoint = _checkpoint(last, cutoff=cutoff, now=now, actor=actor)
    checkpoint.records_deleted, contents = _delete_through(last.seq)
    checkpoint.contents_deleted = contents + expired
    checkpoint.save(update_fields=["records_deleted", "contents_deleted"])
    return checkpoint


def _checkpoint(
    last: CallRecord, *, cutoff: datetime, now: datetime, actor: str
) -> PruneCheckpoint:
    with transaction.atomic():
        record_config_change(
            actor=actor,
            request_id="",
            obj_repr=f"call records through seq {last.seq}",
            action="prune",
            before=None,
            after={"cutoff": cutoff.isoformat(), "through_seq": last.seq},
        )
        checkpoint = PruneCheckpoint.objects.create(
            created_at=now, actor=actor[:150], cutoff=cutoff, seq=last.seq, row_hash=last.row_hash
        )
        trail.append("prune_checkpoint", checkpoint)  # verification trusts no other
        return checkpoint


def _delete_through(last_seq: int) -> tuple[int, int]:
    records = contents = 0
    first = CallRecord.objects.order_by("seq").values_list("seq", flat=True).first() or 0
    for low in range(first, last_seq + 1, CHUNK):
        high = min(low + CHUNK - 1, last_seq)
        with transaction.atomic():
            contents += CallContent.objects.filter(record__seq__lte=high).delete()[0]
            records += CallRecord.objects.filter(seq__lte=high).delete()[0]
    return records, contents


def _delete_expired_contents(now: datetime) -> int:
    return CallContent.objects.filter(expires_at__lt=now).delete()[0]
