"""Anchors: the heads of both chains, written down outside the database.

`verify_audit --anchor` prints `calls=SEQ:HASH,trail=SEQ:HASH` after a clean
verification; kept somewhere the database's writers cannot reach (a ticket, a
signed e-mail, another system's log), it lets `verify_audit --against ANCHOR`
prove later that nothing at or before those positions was rewritten: the
verification walk checks every link from the start to the head, so the entry at
the anchored position still carrying the anchored hash fixes everything before
it. Whoever can write the database but has no copy of the anchor cannot make a
rewritten chain end in the same hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Model

from audit.walk import Problem

_PART = re.compile(r"(calls|trail)=(\d+):([0-9a-f]{64})")


class BadAnchor(ValueError):
    pass


@dataclass(frozen=True)
class Anchor:
    calls: tuple[int, str]
    trail: tuple[int, str]

    def __str__(self) -> str:
        return f"calls={self.calls[0]}:{self.calls[1]},trail={self.trail[0]}:{self.trail[1]}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        parts = {}
        for part in text.strip().split(","):
            match = _PART.fullmatch(part.strip())
            if match is None:
                raise BadAnchor("An anchor reads calls=SEQ:HASH,trail=SEQ:HASH (from --anchor).")
            parts[match[1]] = (int(match[2]), match[3])
        if set(parts) != {"calls", "trail"}:
            raise BadAnchor("An anchor names both chains: calls=SEQ:HASH,trail=SEQ:HASH.")
        return cls(calls=parts["calls"], trail=parts["trail"])


def anchor_problems(
    *,
    chain: str,
    model: type[Model],
    anchored: tuple[int, str],
    head_seq: int,
    pruned_through: int = 0,
) -> list[Problem]:
    """What the chain now says about the position the anchor names."""
    seq, anchored_hash = anchored
    noun = "record" if chain == "calls" else "trail entry"
    if seq == 0:
        return []
    if head_seq < seq:
        detail = f"the chain ends at {head_seq}, before the anchor's seq {seq}: entries deleted"
        return [Problem("deleted", None, head_seq + 1, detail, chain)]
    row = model._default_manager.filter(seq=seq).values("pk", "row_hash").first()
    if row is None:
        if seq <= pruned_through:
            return []  # pruned since, by a checkpoint the trail vouches for
        return [
            Problem("deleted", None, seq, f"the {noun} the anchor names (seq {seq}) is gone", chain)
        ]
    if row["row_hash"] != anchored_hash:
        detail = (
            f"{noun} {row['pk']} at seq {seq} differs from the anchor: "
            "the chain up to it was rewritten"
        )
        return [Problem("rewritten", row["pk"], seq, detail, chain)]
    return []
