"""Where an incremental verification may start: the last verified point.

A clean verification is sealed: `seal = HMAC(key, canonical JSON of SEALED_FIELDS)`
under the trail's current key, the same keys that hash the chains. The next
check walks only the call records after the head of the newest clean, sealed
verification (or after a prune checkpoint the trail vouches for, if one lies
beyond it), once it has re-read that head: the record there must still carry the
verified hash and still match its own. Someone who can write the database but
holds no key cannot forge a sealed row, so the worst they can do to the start is
delete verifications (the next check walks further back) or edit one (its seal
no longer matches: named, and the check walks the whole chain). What incremental
checks do not re-read, the records before the verified point, a whole walk
(`verify_audit --full`, and every check against an anchor) does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.chain import GENESIS_HASH, canonical_json, chain_hash
from audit.keys import UNKEYED, UnknownKey, key_ring
from audit.models import AuditVerification, CallRecord
from audit.walk import Problem

SEALED_FIELDS = (
    "started_at", "actor", "ok", "records_checked", "from_seq", "head_seq", "head_hash",
    "entries_checked", "trail_head_seq", "trail_head_hash", "anchor", "key_id",
)  # fmt: skip
_LOOK_BACK = 50  # newest clean verifications tried before walking the whole chain


@dataclass
class StartPoint:
    """The walk checks records after `seq`, the first of them linking to `row_hash`."""

    seq: int = 0
    row_hash: str = GENESIS_HASH
    keyed: bool = False  # the record at `seq` was keyed (a later unkeyed one is a downgrade)
    problems: list[Problem] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return self.seq == 0


def seal(values: Mapping[str, Any]) -> str:
    """The seal of a verification's findings under the key `values["key_id"]` names."""
    return key_ring().digest(values["key_id"], canonical_json(values, SEALED_FIELDS).encode())


def start_point(*, head_seq: int, checkpoints: dict[int, str]) -> StartPoint:
    """Just past the last verified point; the whole chain when there is none to trust."""
    verified = _last_sealed()
    if isinstance(verified, Problem):
        return StartPoint(problems=[verified])
    if verified is None or verified.head_seq > head_seq:
        return StartPoint()  # the full walk names a chain shorter than verified
    pruned_through = max(checkpoints, default=0)
    if pruned_through > verified.head_seq:  # pruned past it: start at the checkpoint
        return StartPoint(pruned_through, checkpoints[pruned_through], keyed=True)
    return _boundary(verified, pruned_through)


def _last_sealed() -> AuditVerification | Problem | None:
    clean = AuditVerification.objects.filter(ok=True).order_by("-started_at", "-pk")
    for verification in clean[:_LOOK_BACK]:
        if verification.key_id == UNKEYED or not verification.seal:
            continue  # written before seals, or without a key: trusted by no one
        try:
            intact = seal(verification.__dict__) == verification.seal
        except UnknownKey:
            continue  # sealed under a key dropped since: no longer provable
        if intact:
            return verification
        detail = (
            f"verification {verification.pk} does not match its seal: edited or inserted "
            "behind verify_audit (the whole chain was walked instead)"
        )
        return Problem("edited", None, verification.head_seq, detail)
    return None


def _boundary(verified: AuditVerification, pruned_through: int) -> StartPoint:
    """Re-read the verified head: still there, still carrying the verified hash."""
    point = StartPoint(verified.head_seq, verified.head_hash)
    if verified.head_seq == 0:
        return point
    row = CallRecord.objects.filter(seq=verified.head_seq).values().first()
    if row is None:
        if verified.head_seq > pruned_through:
            detail = f"seq {verified.head_seq}, the last verified record, was deleted"
            point.problems.append(Problem("deleted", None, verified.head_seq, detail))
        return point
    point.keyed = bool(row["key_id"])
    try:
        intact = row["row_hash"] == verified.head_hash and (
            chain_hash(row["prev_hash"], row) == row["row_hash"]
        )
    except UnknownKey:
        intact = False
    if not intact:
        detail = f"record {row['id']} changed since the verification that ended on it"
        point.problems.append(Problem("edited", row["id"], verified.head_seq, detail))
    return point
