"""The hash chain over call records: canonical form, hashing, and the head.

`row_hash = sha256(prev_hash + canonical JSON of the audited fields)`. The
canonical JSON sorts keys, has no spaces, writes datetimes as UTC ISO 8601 with
microseconds and integral floats as integers (PostgreSQL's jsonb may hand back
`1e2` as `100`), so a row hashes the same before and after a database round trip.
The head, one `ChainHead` row, is locked and moved here with one SQL statement
each, built from its `_meta`; `audit.writer` calls both in its transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.backends.utils import CursorWrapper

from audit.models import ChainHead

GENESIS_HASH = "0" * 64
HEAD_PK = 1

AUDITED_FIELDS = (
    "seq", "request_id", "trace_id", "client_id", "client_name", "caller_tool",
    "method", "provider", "model", "strategy", "routing", "attempts", "outcome",
    "error_class", "http_status", "latency_ms", "ttft_ms", "input_tokens",
    "output_tokens", "config_hash", "config_version", "started_at", "recorded_at",
)  # fmt: skip


_PLAIN = frozenset({str, int, bool, type(None)})  # most audited values: nothing to do
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _normalise(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def canonical_json(values: Mapping[str, Any]) -> str:
    audited = {name: _normalise(values[name]) for name in AUDITED_FIELDS}
    return _encode(audited)


def chain_hash(prev_hash: str, values: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(values)).encode()).hexdigest()


def lock_chain_head(cursor: CursorWrapper) -> tuple[int, str]:
    """Lock the chain head and return its `(seq, row_hash)`; call in a transaction.

    An UPDATE comes first because it locks on every backend: PostgreSQL holds
    the row until commit (writers on other hosts wait), and SQLite takes its
    write lock at once instead of failing a deferred read-then-write upgrade.
    A new trail has no head yet: create it (or wait for whoever just did) and lock.
    """
    sql = _head_sql()
    cursor.execute(sql.lock, [HEAD_PK])
    rows = cursor.fetchall()
    if not rows:
        cursor.execute(sql.create, [HEAD_PK, 0, GENESIS_HASH])
        cursor.execute(sql.lock, [HEAD_PK])
        rows = cursor.fetchall()
    seq, row_hash = rows[0]
    return seq, row_hash


def move_chain_head(cursor: CursorWrapper, seq: int, row_hash: str) -> None:
    """Point the locked chain head at the last record written."""
    cursor.execute(_head_sql().move, [seq, row_hash, HEAD_PK])


class _HeadSQL(NamedTuple):
    lock: str
    create: str
    move: str


@cache
def _head_sql() -> _HeadSQL:
    quote = connection.ops.quote_name
    meta = ChainHead._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    seq, row_hash = (quote(meta.get_field(name).column) for name in ("seq", "row_hash"))
    return _HeadSQL(
        lock=f"UPDATE {table} SET {seq} = {seq} WHERE {pk} = %s RETURNING {seq}, {row_hash}",
        create=f"INSERT INTO {table} ({pk}, {seq}, {row_hash}) VALUES (%s, %s, %s) "
        f"ON CONFLICT ({pk}) DO NOTHING",
        move=f"UPDATE {table} SET {seq} = %s, {row_hash} = %s WHERE {pk} = %s",
    )
