"""Checking an evidence pack against the database (`verify_audit --evidence FILE`).

The command verifies the chains as usual, against the pack's anchor; this
module adds the rest: the pack must agree with its own digests (else the file
was changed), and each section, built again from the database within the
bounds the pack names (as of its anchor), must equal the pack's. Every section
that differs is named, with the first places where it differs.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.anchors import Anchor, BadAnchor
from audit.evidence import FORMAT, SECTIONS, build_sections, find_subject, sha256_of
from audit.evidence_sections import Bounds

_SHOWN = 5  # places named per differing section


class BadPack(ValueError):
    pass


def read_pack(path: str | Path) -> dict[str, Any]:
    try:
        pack = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadPack(f"Cannot read the evidence pack {path}: {exc}") from None
    if not isinstance(pack, dict) or pack.get("format") != FORMAT:
        raise BadPack(f"{path} is not an evidence pack ({FORMAT}).")
    if set(pack.get("sections") or {}) != set(SECTIONS):
        raise BadPack(f"{path} does not have the sections {', '.join(SECTIONS)}.")
    try:
        _bounds(pack)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadPack(f"{path} does not say what it covers ({exc!r}).") from None
    return pack


def pack_anchor(pack: dict[str, Any]) -> Anchor:
    try:
        return Anchor.parse(str(pack["sections"]["anchor"].get("text", "")))
    except (BadAnchor, AttributeError) as exc:
        raise BadPack(f"The pack's anchor cannot be read: {exc}") from None


def evidence_problems(pack: dict[str, Any]) -> list[str]:
    """Every way the pack differs from itself or from the database, one line each."""
    problems = _digest_problems(pack)
    sections = pack["sections"]
    try:
        subject = find_subject(pack["of"]["kind"], pack["of"]["name"])
        rebuilt = build_sections(subject, _bounds(pack))
    except LookupError as exc:
        return [*problems, f"section subject: {exc}"]
    for name in SECTIONS[:-1]:  # the anchor is checked by the verification itself
        places = _differences(sections[name], rebuilt[name])
        if places:
            shown = ", ".join(places[:_SHOWN]) + (" …" if len(places) > _SHOWN else "")
            problems.append(f"section {name} differs from the database at: {shown}")
    return problems


def _digest_problems(pack: dict[str, Any]) -> list[str]:
    kept = pack.get("sectionSha256") or {}
    problems = [
        f"section {name} does not match the pack's own sha256: the file was changed"
        for name in SECTIONS
        if kept.get(name) != sha256_of(pack["sections"][name])
    ]
    if pack.get("digest") != sha256_of(pack["sections"]):
        problems.append("the pack's digest does not match its sections: the file was changed")
    return problems


def _bounds(pack: dict[str, Any]) -> Bounds:
    """The bounds the pack was built within, read back from its sections."""
    sections = pack["sections"]
    return Bounds(
        calls_seq=sections["anchor"]["calls"]["seq"],
        trail_seq=sections["anchor"]["trail"]["seq"],
        run_id=sections["uat_runs"]["throughId"],
        until=datetime.fromisoformat(sections["calls"].get("until") or pack["exportedAt"]),
        version=sections["configuration"].get("number"),
    )


def _differences(kept: Any, now: Any, path: str = "") -> list[str]:
    """Where `now` differs from `kept`: dotted keys and list positions."""
    if kept == now:
        return []
    if isinstance(kept, dict) and isinstance(now, dict):
        keys = sorted(kept.keys() | now.keys())
        return [p for k in keys for p in _differences(kept.get(k), now.get(k), _join(path, k))]
    if isinstance(kept, list) and isinstance(now, list) and len(kept) == len(now):
        pairs = enumerate(zip(kept, now, strict=True))
        return [p for i, (a, b) in pairs for p in _differences(a, b, f"{path}[{i}]")]
    return [path or "(all of it)"]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
