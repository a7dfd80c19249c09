"""Walking one hash chain in `seq` order and naming what does not hold.

Both chains (call records, the governance trail) are checked by `ChainWalk`: a
row whose own hash does not match its fields was edited; a gap in `seq` is a
deletion, unless a prune checkpoint the trail vouches for covers it; a row that
does not link to the one before it was inserted or follows an edited and
re-hashed row; a row past the chain head was inserted. A row naming a key id
`AUDIT_TRAIL_KEYS` does not list was re-hashed under a key nobody configured,
and an unkeyed row after a keyed one was re-hashed without the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from audit.keys import UNKEYED, UnknownKey

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Problem:
    kind: str  # edited, inserted, deleted, relinked, unknown key, downgraded, rewritten
    record_id: int | None
    seq: int | None
    detail: str
    chain: str = "calls"  # or "trail"


class ChainWalk:
    """Feed rows in seq order to `run`; `covers(seq)` says whether a gap ending at
    `seq` was pruned, and with which last hash (None: not known, a leftover)."""

    def __init__(
        self,
        *,
        chain: str,
        noun: str,
        hash_row: Callable[[str, Row], str],
        start_seq: int,
        start_hash: str,
        head_seq: int,
        covers: Callable[[int], tuple[bool, str | None]] = lambda seq: (False, None),
    ) -> None:
        self.chain, self.noun, self.hash_row, self.covers = chain, noun, hash_row, covers
        self.expected_seq, self.expected_prev = start_seq, start_hash
        self.head_seq = head_seq
        self.last_id: int | None = None
        self.keyed_seen = False
        self.checked = 0

    def run(self, rows: Iterable[Row]) -> Iterator[Problem]:
        for row in rows:
            self.checked += 1
            yield from self._check(row)

    def problem(self, kind: str, pk: int | None, seq: int | None, detail: str) -> Problem:
        return Problem(kind, pk, seq, detail, self.chain)

    def _check(self, row: Row) -> Iterator[Problem]:
        pk, seq, noun = row["pk"], row["seq"], self.noun
        if seq > self.head_seq:
            yield self.problem("inserted", pk, seq, f"{noun} {pk} is past the chain head ({seq})")
            return
        if seq > self.expected_seq:
            yield from self._gap(row)
        elif row["prev_hash"] != self.expected_prev:
            yield self.problem(
                "relinked", pk, seq,
                f"{noun} {pk} does not link to {noun} {self.last_id}: "
                f"one of them was inserted, or {self.last_id} edited and re-hashed",
            )  # fmt: skip
        yield from self._own_hash(row)
        self.expected_seq, self.expected_prev = seq + 1, row["row_hash"]
        self.last_id = pk

    def _gap(self, row: Row) -> Iterator[Problem]:
        pruned, last_hash = self.covers(row["seq"] - 1)
        if not pruned:
            yield self.deleted(self.expected_seq, row["seq"] - 1, after=row["pk"])
        elif last_hash is not None and row["prev_hash"] != last_hash:
            yield self.problem(
                "relinked", row["pk"], row["seq"],
                f"{self.noun} {row['pk']} does not link to the prune checkpoint before it",
            )  # fmt: skip

    def _own_hash(self, row: Row) -> Iterator[Problem]:
        pk, seq, key_id = row["pk"], row["seq"], row["key_id"] or UNKEYED
        if key_id == UNKEYED and self.keyed_seen:
            yield self.problem(
                "downgraded", pk, seq,
                f"{self.noun} {pk} has no key after keyed ones: re-hashed without the key",
            )  # fmt: skip
        self.keyed_seen |= key_id != UNKEYED
        try:
            intact = self.hash_row(row["prev_hash"], row) == row["row_hash"]
        except UnknownKey:
            yield self.problem(
                "unknown key", pk, seq,
                f"{self.noun} {pk} names key {key_id!r}, which AUDIT_TRAIL_KEYS does not list: "
                "re-hashed under a key nobody configured",
            )  # fmt: skip
            return
        if not intact:
            yield self.problem("edited", pk, seq, f"{self.noun} {pk} no longer matches its hash")

    def deleted(self, first: int, last: int, *, after: int | None) -> Problem:
        span = f"seq {first}" if first == last else f"seq {first}–{last}"
        before, noun = self.last_id, self.noun
        where = (
            f"between {noun} {before} and {noun} {after}" if before else f"before {noun} {after}"
        )
        if after is None:
            where = f"after {noun} {before}" if before else "the whole chain"
        return self.problem("deleted", None, first, f"{span} deleted ({where})")

    def tail_problems(self, head_hash: str) -> list[Problem]:
        """What the chain's head says is missing or changed at the end."""
        if self.expected_seq <= self.head_seq:
            pruned, last_hash = self.covers(self.head_seq)
            if not pruned:
                return [self.deleted(self.expected_seq, self.head_seq, after=None)]
            self.expected_seq = self.head_seq + 1  # pruned through the head
            self.expected_prev = head_hash if last_hash is None else last_hash
        if self.expected_seq == self.head_seq + 1 and self.expected_prev != head_hash:
            detail = f"the last {self.noun} differs from the head"
            return [self.problem("edited", self.last_id, self.head_seq, detail)]
        return []
