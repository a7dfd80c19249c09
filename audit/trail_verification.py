"""Checking the governance trail: its entries as a chain, then every governed row
against the newest entry for it.

A governed row whose fields differ from its entry was edited behind the
services (the fields are named); a row with no entry was inserted; an entry
whose row is gone names a deletion. Rows that match an intact entry are
*vouched for*: call-record verification trusts only prune checkpoints the trail
vouches for, so a checkpoint inserted by hand hides nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from audit.chain import GENESIS_HASH
from audit.models import TrailEntry
from audit.trail import ENTRY_FIELDS, Governed, entry_hash, governed, plain_payload
from audit.walk import ChainWalk, Problem


@dataclass
class TrailReport:
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    vouched: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


@dataclass(frozen=True)
class _Latest:
    seq: int
    payload: Any
    intact: bool


def verify_trail(*, head_seq: int, head_hash: str) -> TrailReport:
    report = TrailReport()
    latest = _walk_entries(report, head_seq, head_hash)
    for kind, spec in governed().items():
        _compare_rows(report, spec, latest.pop(kind, {}))
    return report


def _walk_entries(
    report: TrailReport, head_seq: int, head_hash: str
) -> dict[str, dict[str, _Latest]]:
    walk = ChainWalk(
        chain="trail", noun="trail entry", hash_row=entry_hash,
        start_seq=1, start_hash=GENESIS_HASH, head_seq=head_seq,
    )  # fmt: skip
    latest: dict[str, dict[str, _Latest]] = defaultdict(dict)
    rows = (
        TrailEntry.objects.order_by("seq")
        .values("pk", "prev_hash", "row_hash", *ENTRY_FIELDS)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        found = list(walk.run([row]))
        report.problems += found
        latest[row["kind"]][row["object_id"]] = _Latest(row["seq"], row["payload"], not found)
    report.problems += walk.tail_problems(head_hash)
    report.checked = walk.checked
    return latest


def _compare_rows(report: TrailReport, spec: Governed, entries: dict[str, _Latest]) -> None:
    model = spec.model_class()
    noun = model._meta.verbose_name
    rows = (
        model._default_manager.order_by("pk").values("pk", *spec.fields).iterator(chunk_size=2000)
    )
    for row in rows:
        object_id = str(row.pop("pk"))
        entry = entries.pop(object_id, None)
        current = plain_payload(row)
        if entry is None:
            detail = f"{noun} {object_id} has no trail entry: inserted behind the services"
            report.problems.append(Problem("inserted", None, None, detail, "trail"))
        elif entry.payload != current:
            kept = entry.payload if isinstance(entry.payload, dict) else {}
            changed = sorted(k for k in current if current[k] != kept.get(k))
            detail = (
                f"{noun} {object_id} was edited: {', '.join(changed)} differ from "
                f"trail entry {entry.seq}"
            )
            report.problems.append(Problem("edited", None, entry.seq, detail, "trail"))
        elif entry.intact:
            report.vouched[spec.kind].add(object_id)
    for object_id, entry in entries.items():
        detail = f"{noun} {object_id} was deleted (trail entry {entry.seq} names it)"
        report.problems.append(Problem("deleted", None, entry.seq, detail, "trail"))
