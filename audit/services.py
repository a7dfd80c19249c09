"""Writing to the audit trail: the functions every other app may call.

Interface for the API views, after the response is known (for a stream, after
the last event is sent or the client is gone)::

    await record_call(CallRecordData(request_id=..., method=CallMethod.CHAT,
                                     outcome=CallOutcome.SUCCESS, started_at=..., ...))

`record_call` returns once the batch carrying the record is committed and raises
`AuditWriteFailed` if that batch failed: a completed response always has its
record. Sync code (management commands, admin actions) uses `record_call_sync`.
The ASGI lifespan awaits `flush_pending()` at shutdown so nothing queued is lost.
`record_config_change` stores one configuration change with secrets masked,
and chains it into the governance trail (`audit.trail`); `record_sign_off`
stores a reviewer's decision on a subject (final once written).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from audit import trail
from audit.batcher import AuditWriteFailed, close_loop_batcher, loop_batcher
from audit.models import ConfigChange, SignOff, SignOffDecision
from audit.refusals import flush_refusals
from audit.types import CallRecordData
from audit.writer import write_records

__all__ = [
    "AuditWriteFailed",
    "flush_pending",
    "mask_secrets",
    "record_call",
    "record_call_sync",
    "record_config_change",
    "record_sign_off",
]

SECRET_MARKERS = (
    "credential", "secret", "password", "api_key", "apikey", "private_key", "pepper",
)  # fmt: skip
# A token itself (`token`, `x-token`, `access_token`) or its hash is secret; a
# name that merely mentions tokens (`daily_token_budget`) is not.
_SECRET_TOKEN = re.compile(r"token(s|_hash)?$")
# Names of where a secret is kept (an environment variable, a hash's display
# prefix) are what reviewers need to see, and are not secrets themselves.
NOT_SECRET_SUFFIXES = ("_env", "_prefix")
MASK = "********"


async def record_call(data: CallRecordData) -> None:
    """Store one call record; returns when its batch has been committed."""
    await loop_batcher().submit(data)


def record_call_sync(data: CallRecordData) -> None:
    """Store one call record now, in its own transaction (sync callers)."""
    write_records([data])


async def flush_pending() -> None:
    """Write every record queued on this event loop, and the pending refusal
    counts; await it at shutdown."""
    await close_loop_batcher()
    await sync_to_async(flush_refusals)()


def record_config_change(
    *,
    actor: str,
    request_id: str,
    obj_repr: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    source: str = "",
) -> ConfigChange:
    change = ConfigChange(
        created_at=timezone.now(),
        actor_name=actor,
        source=source,
        request_id=request_id,
        object_repr=obj_repr[:255],
        action=action,
        before=mask_secrets(before),
        after=mask_secrets(after),
    )
    change.full_clean()
    with transaction.atomic():
        change.save()
        trail.append("config_change", change)
    return change


def mask_secrets(value: Any) -> Any:
    """A copy of `value` where every key naming a secret has its value masked."""
    if isinstance(value, dict):
        return {
            key: MASK if _names_secret(key) and item not in (None, "") else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secrets(item) for item in value]
    return value


def _names_secret(key: object) -> bool:
    name = str(key).lower()
    if name.endswith(NOT_SECRET_SUFFIXES):
        return False
    return any(marker in name for marker in SECRET_MARKERS) or bool(_SECRET_TOKEN.search(name))


def record_sign_off(
    *,
    subject_kind: str,
    subject_id: str,
    subject_label: str,
    decision: str,
    reviewer: str,
    reviewer_role: str,
    notes: str = "",
    evidence: Sequence[str] = (),
) -> SignOff:
    """Store one reviewer's decision on a subject; the row is final once written."""
    if decision not in SignOffDecision.values:
        raise ValueError(f"Unknown sign-off decision {decision!r}.")
    sign_off = SignOff(
        subject_kind=subject_kind, subject_id=str(subject_id), subject_label=subject_label[:255],
        decision=decision, notes=notes, evidence=[str(link) for link in evidence if link],
        reviewer_name=reviewer, reviewer_role=reviewer_role[:150], created_at=timezone.now(),
    )  # fmt: skip
    sign_off.full_clean()
    with transaction.atomic():
        sign_off.save()
        trail.append("sign_off", sign_off)
    return sign_off
