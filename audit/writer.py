"""One transaction that appends a batch of call records to the hash chain.

The batcher (async callers) and `record_call_sync` (sync callers) both end here.
The chain head is locked first, so seq numbers, `recorded_at` and hashes follow
commit order on every worker and host.

Each record is hashed under the first of `AUDIT_TRAIL_KEYS` (`audit.keys`).
This is the hot path of every call, so it speaks SQL rather than the ORM: one
statement locks the head, one inserts the records (`audit.statements`), one the
texts kept, one moves the head. On PostgreSQL they go out as scripts of
several statements (`audit.script`): two waits for the server per batch
instead of six.

On PostgreSQL the writer also remembers where it left the head on each
connection. Its next batch chains on from there and moves the head only if it
is still there (`audit.chain.move_chain_head_from`), so a batch takes one
wait, not two: the one a call's answer waits for (docs/BENCHMARKS.md). When
another writer has moved the head in the meantime, that transaction fails
whole and the batch is written again after reading the head.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from audit.budgets import count_usage
from audit.chain import (
    chain_hash,
    head_moved,
    lock_chain_head,
    move_chain_head,
    move_chain_head_from,
)
from audit.keys import key_ring
from audit.models import CallRecord
from audit.script import scripted_transaction, scripts
from audit.statements import insert_contents, insert_records, prepare_content, prepare_record
from audit.types import CallRecordData
from audit.writelock import write_turn

_COPIED = (
    "request_id", "trace_id", "client_id", "client_name", "caller_tool", "method",
    "provider", "model", "strategy", "routing", "attempts", "outcome", "error_class",
    "http_status", "latency_ms", "ttft_ms", "input_tokens", "output_tokens",
    "config_hash", "config_version", "started_at", "door", "source_address",
    "token_prefix", "message", "usage_estimated",
)  # fmt: skip


# Where this process left the head, per PostgreSQL connection (a new connection
# starts by reading it).
_left_at: WeakKeyDictionary[Any, tuple[int, str]] = WeakKeyDictionary()


def write_records(items: Sequence[CallRecordData]) -> range:
    """Store `items` in one transaction, chained after the current head, and
    return the chain positions (`seq`) they took."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
    if not scripts(db):
        first, head = _append(db, items, seen=None)
    else:
        db.ensure_connection()
        seen = _left_at.pop(db.connection, None)
        try:
            first, head = _append(db, items, seen)
        except IntegrityError as error:
            if seen is None or not head_moved(error):
                raise
            first, head = _append(db, items, seen=None)
        _left_at[db.connection] = head
    count_usage(items)
    return range(first, head[0] + 1)


def _append(
    db: BaseDatabaseWrapper, items: Sequence[CallRecordData], seen: tuple[int, str] | None
) -> tuple[int, tuple[int, str]]:
    """Chain `items` on from the head, read and locked, or from where it was
    `seen`; return the first seq written and the head's new place."""
    with _transaction(db) as cursor:
        seq, row_hash = seen or lock_chain_head(cursor)
        first = seq + 1
        now, key_id = timezone.now(), key_ring().current_id
        records, contents = [], []
        for item in items:
            seq += 1
            values = _record_values(item, now, seq, row_hash, key_id)
            row_hash = values["row_hash"]
            records.append(prepare_record(db, values))
            if item.keeps_content:
                contents.append(prepare_content(db, seq, _content_values(item, now)))
        if seen is None:
            move_chain_head(cursor, seq, row_hash)  # locked above
        else:
            move_chain_head_from(cursor, seen, seq, row_hash)  # first: it takes the lock
        insert_records(cursor, records)
        insert_contents(cursor, contents)
    return first, (seq, row_hash)


@contextmanager
def _transaction(db: BaseDatabaseWrapper) -> Iterator[Any]:
    if scripts(db):
        with scripted_transaction(db) as cursor:
            yield cursor
    else:
        with write_turn(db), transaction.atomic(using=db.alias), db.cursor() as cursor:
            yield cursor


def _record_values(
    item: CallRecordData, now: datetime, seq: int, prev_hash: str, key_id: str
) -> dict[str, Any]:
    values: dict[str, Any] = {name: _storable(getattr(item, name)) for name in _COPIED}
    for name, limit in _limits().items():
        value = values[name]
        if isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]  # a long id must not fail the whole batch
    values.update(seq=seq, recorded_at=now, prev_hash=prev_hash, key_id=key_id)
    values["row_hash"] = chain_hash(prev_hash, values)
    return values


def _content_values(item: CallRecordData, now: datetime) -> dict[str, Any]:
    days = item.content_retention_days
    if days is None:
        days = settings.AUDIT_CONTENT_RETENTION_DAYS
    return {
        "prompt_text": _storable(item.prompt_text or ""),
        "response_text": _storable(item.response_text or ""),
        "expires_at": now + timedelta(days=days),
    }


def _storable(value: Any) -> Any:
    """`value` with each NUL character replaced by U+FFFD. PostgreSQL keeps no NUL
    in text or JSON, and a caller may send one (in `callerTool`, say): the record
    must still be stored, the same on every database, before it is hashed."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


@cache
def _limits() -> dict[str, int]:
    """max_length of the copied text fields."""
    fields = (CallRecord._meta.get_field(name) for name in _COPIED)
    return {field.name: field.max_length for field in fields if field.max_length}
