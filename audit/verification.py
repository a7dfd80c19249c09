"""Checking the audit trail end to end: the call-record chain, the governance
trail (`audit.trail_verification`), the prune checkpoints, and an anchor.

By default the call-record walk (`audit.walk`) is incremental: it checks the
records written since the last verified point (`audit.verified_points`), after
re-reading the record there, so its cost follows the new records, not the
table. A whole walk (`full=True`, and always against an anchor or when the
governance trail has a problem) covers every surviving record in `seq` order.
Either way, a gap is a deletion unless a prune checkpoint the governance trail
vouches for covers it, and each such checkpoint's claim (its last deleted seq
and hash) must agree with the records that survive it. A checkpoint the trail
does not vouch for is named there and trusted nowhere. The head of the last
verification must still be in the chain, so rewriting the tail after a check
shows too; an anchor kept outside the database (`audit.anchors`) closes the rest.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone

from audit.anchors import Anchor, anchor_problems
from audit.chain import AUDITED_FIELDS, GENESIS_HASH, HEAD_PK, KEYED_FIELDS, chain_hash
from audit.keys import UNKEYED, key_ring
from audit.models import AuditVerification, CallRecord, ChainHead, PruneCheckpoint, TrailEntry
from audit.trail import TRAIL_HEAD_PK
from audit.trail_verification import verify_trail
from audit.verified_points import StartPoint, seal, start_point
from audit.walk import ChainWalk, Problem

__all__ = ["Problem", "run_verification", "verify_chain"]

_CALL_COLUMNS = tuple(
    dict.fromkeys(("pk", "prev_hash", "row_hash", *AUDITED_FIELDS, *KEYED_FIELDS))
)


def run_verification(
    *, actor: str, anchor: Anchor | None = None, full: bool = False
) -> AuditVerification:
    """Check the trail and store the outcome as an AuditVerification, sealed
    when clean. Incremental unless `full`, an anchor is given, or the
    governance trail has a problem (the last verified point may rest on it)."""
    started = timezone.now()
    calls, trail_head = _head(HEAD_PK), _head(TRAIL_HEAD_PK)
    trail = verify_trail(head_seq=trail_head.seq, head_hash=trail_head.row_hash)
    checkpoints = dict(
        PruneCheckpoint.objects.filter(
            pk__in=[int(pk) for pk in trail.vouched["prune_checkpoint"]]
        ).values_list("seq", "row_hash")
    )
    full = full or anchor is not None or bool(trail.problems)
    start = StartPoint() if full else start_point(head_seq=calls.seq, checkpoints=checkpoints)
    problems, checked = verify_chain(
        head_seq=calls.seq, head_hash=calls.row_hash, checkpoints=checkpoints, start=start
    )
    problems += trail.problems
    if anchor is not None:
        problems += _against(anchor, calls.seq, trail_head.seq, max(checkpoints, default=0))
    return _store(
        started_at=started, actor=actor[:150], ok=not problems, records_checked=checked,
        from_seq=start.seq + 1, head_seq=calls.seq, head_hash=calls.row_hash,
        entries_checked=trail.checked, trail_head_seq=trail_head.seq,
        trail_head_hash=trail_head.row_hash, anchor=str(anchor or ""),
        problems=[asdict(problem) for problem in problems],
    )  # fmt: skip


def verify_chain(
    *,
    head_seq: int,
    head_hash: str,
    checkpoints: dict[int, str] | None = None,
    start: StartPoint | None = None,
) -> tuple[list[Problem], int]:
    """Walk the call records after `start` (default: all of them); `checkpoints`
    maps each vouched-for prune checkpoint's last deleted seq to that record's hash."""
    checkpoints = checkpoints or {}
    start = start or StartPoint()
    pruned_through = max(checkpoints, default=0)

    def covers(last_seq: int) -> tuple[bool, str | None]:
        return last_seq <= pruned_through, checkpoints.get(last_seq)

    walk = ChainWalk(
        chain="calls", noun="record", hash_row=chain_hash,
        start_seq=start.seq + 1, start_hash=start.row_hash, head_seq=head_seq, covers=covers,
    )  # fmt: skip
    walk.keyed_seen = start.keyed
    rows = (
        CallRecord.objects.filter(seq__gt=start.seq)
        .order_by("seq")
        .values(*_CALL_COLUMNS)
        .iterator(chunk_size=2000)
    )
    problems = list(start.problems)
    problems += walk.run(rows)
    problems += walk.tail_problems(head_hash)
    problems += _claim_problems(checkpoints, head_seq)
    if start.whole:
        problems += _since_last_verification(head_seq)
    return problems, walk.checked


def _store(**values: Any) -> AuditVerification:
    if values["ok"]:
        values["key_id"] = key_ring().current_id
        if values["key_id"] != UNKEYED:  # without a key a seal proves nothing: leave none
            values["seal"] = seal(values)
    values["finished_at"] = timezone.now()
    return AuditVerification.objects.create(**values)


def _head(pk: int) -> ChainHead:
    return ChainHead.objects.filter(pk=pk).first() or ChainHead(seq=0, row_hash=GENESIS_HASH)


def _claim_problems(checkpoints: dict[int, str], head_seq: int) -> list[Problem]:
    """A checkpoint claims the last record it deleted: it must lie within the
    chain, and a record still there (an interrupted prune) must carry its hash."""
    problems = []
    survivors = dict(
        CallRecord.objects.filter(seq__in=list(checkpoints)).values_list("seq", "row_hash")
    )
    for seq, row_hash in sorted(checkpoints.items()):
        if seq > head_seq:
            detail = f"a prune checkpoint claims seq {seq}, past the chain head ({head_seq})"
            problems.append(Problem("inserted", None, seq, detail))
        elif seq in survivors and survivors[seq] != row_hash:
            detail = f"the prune checkpoint through seq {seq} does not match the record there"
            problems.append(Problem("edited", None, seq, detail))
    return problems


def _since_last_verification(head_seq: int) -> list[Problem]:
    previous = AuditVerification.objects.filter(ok=True).first()
    if previous is None:
        return []
    if previous.head_seq > head_seq:
        detail = "the chain is shorter than when last verified"
        return [Problem("deleted", None, head_seq + 1, detail)]
    anchor = CallRecord.objects.filter(seq=previous.head_seq).values("pk", "row_hash").first()
    if anchor and anchor["row_hash"] != previous.head_hash:
        detail = f"record {anchor['pk']} changed since the verification that ended on it"
        return [Problem("edited", anchor["pk"], previous.head_seq, detail)]
    return []


def _against(
    anchor: Anchor, calls_head: int, trail_head: int, pruned_through: int
) -> list[Problem]:
    calls = anchor_problems(
        chain="calls", model=CallRecord, anchored=anchor.calls,
        head_seq=calls_head, pruned_through=pruned_through,
    )  # fmt: skip
    trail = anchor_problems(
        chain="trail", model=TrailEntry, anchored=anchor.trail, head_seq=trail_head
    )
    return calls + trail
