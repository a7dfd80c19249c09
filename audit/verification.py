"""Checking the call-record chain end to end.

The walk starts after the latest prune checkpoint (or at the genesis hash) and
follows `seq` order. A row whose own hash does not match its fields was edited; a
gap in `seq` is a deletion; a row that does not link to the one before it was
inserted or follows an edited and re-hashed row; a row past the chain head, or
below the checkpoint, was inserted. The head of the last verification must still
be in the chain, so rewriting the tail after a check shows too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.utils import timezone

from audit.chain import AUDITED_FIELDS, GENESIS_HASH, HEAD_PK, chain_hash
from audit.models import AuditVerification, CallRecord, ChainHead, PruneCheckpoint


@dataclass(frozen=True)
class Problem:
    kind: str  # edited, inserted, deleted, relinked
    record_id: int | None
    seq: int | None
    detail: str


def run_verification(*, actor: str) -> AuditVerification:
    """Walk the whole chain and store the outcome as an AuditVerification."""
    started = timezone.now()
    head = ChainHead.objects.filter(pk=HEAD_PK).first() or ChainHead(seq=0, row_hash=GENESIS_HASH)
    problems, checked = verify_chain(head_seq=head.seq, head_hash=head.row_hash)
    return AuditVerification.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        actor=actor[:150],
        ok=not problems,
        records_checked=checked,
        head_seq=head.seq,
        head_hash=head.row_hash,
        problems=[asdict(problem) for problem in problems],
    )


def verify_chain(*, head_seq: int, head_hash: str) -> tuple[list[Problem], int]:
    checkpoint = PruneCheckpoint.objects.order_by("-seq").first()
    start = (checkpoint.seq, checkpoint.row_hash) if checkpoint else (0, GENESIS_HASH)
    rows = (
        CallRecord.objects.filter(seq__gt=start[0])
        .order_by("seq")
        .values("pk", "prev_hash", "row_hash", *AUDITED_FIELDS)
        .iterator(chunk_size=2000)
    )
    walk = _Walk(start_seq=start[0] + 1, start_hash=start[1], head_seq=head_seq)
    problems = list(walk.run(rows))
    problems += _tail_problems(walk, head_seq, head_hash)
    return problems, walk.checked


class _Walk:
    def __init__(self, *, start_seq: int, start_hash: str, head_seq: int) -> None:
        self.expected_seq, self.expected_prev = start_seq, start_hash
        self.head_seq = head_seq
        self.last_id: int | None = None
        self.checked = 0

    def run(self, rows: Iterable[dict[str, Any]]) -> Iterator[Problem]:
        for row in rows:
            self.checked += 1
            yield from self._check(row)

    def _check(self, row: dict[str, Any]) -> Iterator[Problem]:
        pk, seq = row["pk"], row["seq"]
        if seq > self.head_seq:
            yield Problem("inserted", pk, seq, f"record {pk} is past the chain head ({seq})")
            return
        if seq > self.expected_seq:
            yield _deleted(self.expected_seq, seq - 1, self.last_id, pk)
        elif row["prev_hash"] != self.expected_prev:
            yield Problem(
                "relinked", pk, seq,
                f"record {pk} does not link to record {self.last_id}: "
                f"one of them was inserted, or {self.last_id} edited and re-hashed",
            )  # fmt: skip
        if chain_hash(row["prev_hash"], row) != row["row_hash"]:
            yield Problem("edited", pk, seq, f"record {pk} no longer matches its hash")
        self.expected_seq, self.expected_prev = seq + 1, row["row_hash"]
        self.last_id = pk


def _deleted(first: int, last: int, before: int | None, after: int | None) -> Problem:
    span = f"seq {first}" if first == last else f"seq {first}–{last}"
    where = f"between record {before} and record {after}" if before else f"before record {after}"
    if after is None:
        where = f"after record {before}" if before else "the whole chain"
    return Problem("deleted", None, first, f"{span} deleted ({where})")


def _tail_problems(walk: _Walk, head_seq: int, head_hash: str) -> list[Problem]:
    problems = []
    if walk.expected_seq <= head_seq:
        problems.append(_deleted(walk.expected_seq, head_seq, walk.last_id, None))
    elif walk.expected_seq == head_seq + 1 and walk.expected_prev != head_hash:
        problems.append(
            Problem("edited", walk.last_id, head_seq, "the last record differs from the head")
        )
    previous = AuditVerification.objects.filter(ok=True).first()
    if previous and previous.head_seq > head_seq:
        problems.append(
            Problem("deleted", None, head_seq + 1, "the chain is shorter than when last verified")
        )
    elif previous:
        anchor = CallRecord.objects.filter(seq=previous.head_seq).values("pk", "row_hash").first()
        if anchor and anchor["row_hash"] != previous.head_hash:
            problems.append(
                Problem(
                    "edited",
                    anchor["pk"],
                    previous.head_seq,
                    f"record {anchor['pk']} changed since the verification that ended on it",
                )  # fmt: skip
            )
    return problems
