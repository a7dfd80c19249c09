"""The governance trail: configuration changes, prune checkpoints, sign-offs and
configuration versions, chained and keyed like call records.

A governed row joins the trail with one call, made by the service that saves
it, inside the same transaction::

    trail.govern("sign_off", "audit.SignOff", fields=("subject_kind", ...))  # once, in ready()
    trail.append("sign_off", sign_off)                                       # after each save

`append` reads the row's governed fields back from the database and writes one
`TrailEntry` (kind, object id, those fields as canonical JSON, key id, hashes),
so the entry holds exactly what verification will read. Appending the same row
again (a later, legitimate change) makes the newest entry the one it must
match. `verify_trail` walks the entries like the call-record chain, then
compares every governed row with its newest entry: a row that differs was
edited, a row without an entry was inserted, an entry without its row names a
deletion.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from audit.chain import canonical_json, lock_chain_head, move_chain_head, normalise
from audit.keys import key_ring

__all__ = ["TRAIL_HEAD_PK", "Governed", "append", "entry_hash", "govern", "governed"]

TRAIL_HEAD_PK = 2  # the governance trail's row in ChainHead
ENTRY_FIELDS = ("seq", "kind", "object_id", "payload", "recorded_at", "key_id")


@dataclass(frozen=True)
class Governed:
    """A kind of row the trail covers: its model ("app_label.ModelName") and the
    fields an entry keeps (those that must never change behind the services)."""

    kind: str
    model: str
    fields: tuple[str, ...]

    def model_class(self, apps: Apps = global_apps) -> type[Model]:
        return apps.get_model(self.model)


_GOVERNED: dict[str, Governed] = {}


def govern(kind: str, model: str, fields: Sequence[str]) -> None:
    """Declare a kind of governed row; call once, from the owning app's `ready()`."""
    spec = Governed(kind, model, tuple(fields))
    if _GOVERNED.get(kind, spec) != spec:
        raise ValueError(f"trail kind {kind!r} is already governed differently")
    _GOVERNED[kind] = spec


def governed() -> Mapping[str, Governed]:
    return dict(_GOVERNED)


def append(kind: str, obj: Model) -> Model:
    """Chain `obj`'s governed fields into the trail; call inside the transaction
    that saved it. Returns the TrailEntry written."""
    from audit.models import TrailEntry

    spec = _GOVERNED[kind]
    with transaction.atomic():
        payload = read_payload(spec, obj.pk)
        return write_entry(TrailEntry, kind, obj.pk, payload)


def read_payload(spec: Governed, pk: Any, apps: Apps = global_apps) -> dict[str, Any]:
    row = spec.model_class(apps)._default_manager.filter(pk=pk).values(*spec.fields).get()
    return plain_payload(row)


def plain_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's governed values as JSON keeps them (dates as UTC text, a
    Decimal or UUID as text), so a payload reads back as it was hashed."""
    return json.loads(json.dumps(normalise(dict(row)), default=str))


def write_entry(entry_model: type[Model], kind: str, object_id: Any, payload: dict) -> Model:
    """Lock the trail's head, write the next entry, move the head (one transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        seq, prev_hash = lock_chain_head(cursor, TRAIL_HEAD_PK)
        entry = entry_model(
            seq=seq + 1,
            kind=kind,
            object_id=str(object_id),
            payload=payload,
            recorded_at=timezone.now(),
            key_id=key_ring().current_id,
            prev_hash=prev_hash,
        )
        entry.row_hash = entry_hash(entry.prev_hash, entry.__dict__)
        entry.save()
        move_chain_head(cursor, entry.seq, entry.row_hash, TRAIL_HEAD_PK)
    return entry


def entry_hash(prev_hash: str, values: Mapping[str, Any]) -> str:
    """A trail entry's hash; raises `audit.keys.UnknownKey` for an unlisted key id."""
    return key_ring().digest(
        values["key_id"], (prev_hash + canonical_json(values, ENTRY_FIELDS)).encode()
    )


def adopt_rows(apps: Apps, kinds: Iterable[str]) -> int:
    """Give every existing row of `kinds` its entry (a migration's first trail)."""
    entry_model = apps.get_model("audit", "TrailEntry")
    written = 0
    for kind in kinds:
        spec = _GOVERNED[kind]
        for pk in (
            spec.model_class(apps)._default_manager.order_by("pk").values_list("pk", flat=True)
        ):
            write_entry(entry_model, kind, pk, read_payload(spec, pk, apps))
            written += 1
    return written


govern(
    "config_change",
    "audit.ConfigChange",
    ("created_at", "actor_name", "request_id", "object_repr", "action", "before", "after"),
)
# A reviewer's decision is final once written (audit.models.SignOff).
govern(
    "sign_off",
    "audit.SignOff",
    ("subject_kind", "subject_id", "subject_label", "decision", "notes", "evidence",
     "reviewer_name", "reviewer_role", "created_at"),
)  # fmt: skip
# What a retention run claims; its counts are filled in after the deletes.
govern(
    "prune_checkpoint",
    "audit.PruneCheckpoint",
    ("created_at", "actor", "cutoff", "seq", "row_hash"),
)
