"""One transaction that appends a batch of call records to the hash chain.

The batcher (async callers) and `record_call_sync` (sync callers) both end here.
The chain head is locked first, so seq numbers, `recorded_at` and hashes follow
commit order on every worker and host.

This is the hot path of every call, so it speaks SQL rather than the ORM: one
statement locks the head, one `executemany` inserts the records, one the texts
kept, one moves the head. The statements are built once from the models'
`_meta`, and each value goes through its field's `get_db_prep_save`, as in
`bulk_create`, so the rows stored are the ones the ORM would store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils import timezone

from audit.budgets import count_usage
from audit.chain import chain_hash, lock_chain_head, move_chain_head
from audit.models import CallContent, CallRecord
from audit.types import CallRecordData
from audit.writelock import write_turn

_COPIED = (
    "request_id", "trace_id", "client_id", "client_name", "caller_tool", "method",
    "provider", "model", "strategy", "routing", "attempts", "outcome", "error_class",
    "http_status", "latency_ms", "ttft_ms", "input_tokens", "output_tokens",
    "config_hash", "config_version", "started_at",
)  # fmt: skip


def write_records(items: Sequence[CallRecordData]) -> range:
    """Store `items` in one transaction, chained after the current head, and
    return the chain positions (`seq`) they took."""
    sql = _statements()
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
    with write_turn(db), transaction.atomic(using=db.alias), db.cursor() as cursor:
        seq, row_hash = lock_chain_head(cursor)
        first = seq + 1
        now = timezone.now()
        records, contents = [], []
        for item in items:
            seq += 1
            values = _record_values(item, now, seq, row_hash)
            row_hash = values["row_hash"]
            records.append(_prepare(db, sql.record_fields, values))
            if item.keeps_content:
                content = _content_values(item, now)
                contents.append([seq, *_prepare(db, sql.content_fields, content)])
        cursor.executemany(sql.insert_record, records)
        if contents:
            cursor.executemany(sql.insert_content, contents)
        move_chain_head(cursor, seq, row_hash)
    count_usage(items)
    return range(first, seq + 1)


def _record_values(item: CallRecordData, now: datetime, seq: int, prev_hash: str) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(item, name) for name in _COPIED}
    for name, limit in _limits().items():
        value = values[name]
        if isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]  # a long id must not fail the whole batch
    values.update(seq=seq, recorded_at=now, prev_hash=prev_hash)
    values["row_hash"] = chain_hash(prev_hash, values)
    return values


def _content_values(item: CallRecordData, now: datetime) -> dict[str, Any]:
    days = item.content_retention_days
    if days is None:
        days = settings.AUDIT_CONTENT_RETENTION_DAYS
    return {
        "prompt_text": item.prompt_text or "",
        "response_text": item.response_text or "",
        "expires_at": now + timedelta(days=days),
    }


def _prepare(
    db: BaseDatabaseWrapper, fields: tuple[Field, ...], values: dict[str, Any]
) -> list[Any]:
    return [field.get_db_prep_save(values[field.attname], db) for field in fields]


class _Statements(NamedTuple):
    record_fields: tuple[Field, ...]
    insert_record: str
    content_fields: tuple[Field, ...]  # after the record, found by its seq
    insert_content: str


@cache
def _statements() -> _Statements:
    quote = connection.ops.quote_name
    record, content = CallRecord._meta, CallContent._meta
    record_fields = tuple(f for f in record.concrete_fields if not f.primary_key)
    content_fields = tuple(f for f in content.concrete_fields if not f.primary_key)
    record_id = (
        f"(SELECT {quote(record.pk.column)} FROM {quote(record.db_table)}"
        f" WHERE {quote(record.get_field('seq').column)} = %s)"
    )
    return _Statements(
        record_fields=record_fields,
        insert_record=_insert(quote, record.db_table, record_fields),
        content_fields=content_fields,
        insert_content=_insert(
            quote, content.db_table, content_fields, first=(content.pk.column, record_id)
        ),
    )


def _insert(
    quote: Any, table: str, fields: tuple[Field, ...], first: tuple[str, str] | None = None
) -> str:
    columns = [quote(field.column) for field in fields]
    values = ["%s"] * len(fields)
    if first is not None:
        columns.insert(0, quote(first[0]))
        values.insert(0, first[1])
    return f"INSERT INTO {quote(table)} ({', '.join(columns)}) VALUES ({', '.join(values)})"


@cache
def _limits() -> dict[str, int]:
    """max_length of the copied text fields."""
    fields = (CallRecord._meta.get_field(name) for name in _COPIED)
    return {field.name: field.max_length for field in fields if field.max_length}
