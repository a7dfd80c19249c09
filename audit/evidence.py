"""Evidence packs: one JSON file an assessor can check offline and against the
database later.

`build_pack(kind="pilot"|"release", name=…, actor=…)` reads the heads of both
chains (the anchor) first, then every section within bounds the anchor fixes
(`audit.evidence_sections`): the subject, its sign-offs, the configuration
version and its diff against the previous approved one, the UAT runs, the
call-record summary, and the anchor itself. Each section carries its own
sha256 over its canonical JSON (sorted keys, no spaces, UTF-8) in
`sectionSha256`, and `digest` is the sha256 of the canonical JSON of all
sections together. `manage.py export_evidence` and the admin actions write it;
`manage.py verify_audit --evidence FILE` checks it (`audit.evidence_check`).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.anchors import Anchor
from audit.chain import GENESIS_HASH, HEAD_PK, normalise
from audit.evidence_sections import Bounds, pilot_sections, provide_configuration, release_sections
from audit.models import ChainHead, Pilot, Release, UatRun
from audit.trail import TRAIL_HEAD_PK

__all__ = ["FORMAT", "SECTIONS", "build_pack", "pack_filename", "provide_configuration"]

FORMAT = "llm-caller evidence pack 1"
SECTIONS = ("subject", "sign_offs", "configuration", "uat_runs", "calls", "anchor")
KINDS = ("pilot", "release")


class SubjectNotFound(LookupError):
    pass


def build_pack(*, kind: str, name: str, actor: str, now: datetime | None = None) -> dict:
    with transaction.atomic():
        anchor = current_anchor()
        subject = find_subject(kind, name)
        last_run = UatRun.objects.aggregate(last=Max("pk"))["last"] or 0
        exported = now or timezone.now()
        bounds = Bounds(
            calls_seq=anchor.calls[0], trail_seq=anchor.trail[0], run_id=last_run,
            until=exported, version=subject.config_version if kind == "release" else None,
        )  # fmt: skip
        sections = build_sections(subject, bounds) | {"anchor": anchor_section(anchor)}
    return {
        "format": FORMAT,
        "of": {"kind": kind, "name": name},
        "exportedAt": exported.isoformat(),
        "exportedBy": actor,
        "sections": sections,
        "sectionSha256": {key: sha256_of(value) for key, value in sections.items()},
        "digest": sha256_of(sections),
    }


def find_subject(kind: str, name: str) -> Pilot | Release:
    model = {"pilot": Pilot, "release": Release}.get(kind)
    if model is None:
        raise SubjectNotFound(f"An evidence pack is of a pilot or a release, not {kind!r}.")
    subject = model.objects.filter(name=name).first()
    if subject is None:
        raise SubjectNotFound(f"No {kind} is named {name!r}.")
    return subject


def build_sections(subject: Pilot | Release, bounds: Bounds) -> dict[str, Any]:
    build = pilot_sections if isinstance(subject, Pilot) else release_sections
    return normalise(build(subject, bounds))


def current_anchor() -> Anchor:
    heads = {pk: (seq, row_hash) for pk, seq, row_hash in ChainHead.objects.values_list(
        "pk", "seq", "row_hash")}  # fmt: skip
    empty = (0, GENESIS_HASH)
    return Anchor(calls=heads.get(HEAD_PK, empty), trail=heads.get(TRAIL_HEAD_PK, empty))


def anchor_section(anchor: Anchor) -> dict[str, Any]:
    return {
        "calls": {"seq": anchor.calls[0], "hash": anchor.calls[1]},
        "trail": {"seq": anchor.trail[0], "hash": anchor.trail[1]},
        "text": str(anchor),
    }


def canonical(value: Any) -> str:
    return json.dumps(normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def pack_filename(pack: dict) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", pack["of"]["name"])
    stamp = datetime.fromisoformat(pack["exportedAt"]).strftime("%Y%m%dT%H%M%S")
    return f"evidence-{pack['of']['kind']}-{name}-{stamp}.json"


def pack_json(pack: dict) -> str:
    return json.dumps(pack, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
