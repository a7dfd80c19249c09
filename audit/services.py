"""Writing to the audit trail: the functions every other app may call.

Interface for the API views, after the response is known (for a stream, after
the last event is sent or the client is gone)::

    await record_call(CallRecordData(request_id=..., method=CallMethod.CHAT,
                                     outcome=CallOutcome.SUCCESS, started_at=..., ...))

`record_call` returns once the batch carrying the record is committed and raises
`AuditWriteFailed` if that batch failed: a completed response always has its
record. Sync code (management commands, admin actions) uses `record_call_sync`.
The ASGI lifespan awaits `flush_pending()` at shutdown so nothing queued is lost.
`record_config_change` stores one configuration change with secrets masked.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone

from audit.batcher import AuditWriteFailed, close_loop_batcher, loop_batcher
from audit.models import ConfigChange
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
]

SECRET_MARKERS = ("credential", "token", "secret", "password", "api_key", "apikey", "private_key")
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
) -> ConfigChange:
    change = ConfigChange(
        created_at=timezone.now(),
        actor_name=actor,
        request_id=request_id,
        object_repr=obj_repr[:255],
        action=action,
        before=mask_secrets(before),
        after=mask_secrets(after),
    )
    change.full_clean()
    change.save()
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
    return any(marker in name for marker in SECRET_MARKERS)
