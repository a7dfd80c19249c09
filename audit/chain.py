"""The hash chain over call records: canonical form, hashing, and the head.

`row_hash = HMAC-SHA256(key, prev_hash + canonical JSON of the audited fields)`,
under the key the row names by `key_id` (`audit.keys`). Rows written before the
trail was keyed have an empty key id, keep `sha256(prev_hash + canonical JSON)`
and their shorter field list (`AUDITED_FIELDS`); keyed rows audit `KEYED_FIELDS`,
which adds the fields call records gained since, and the key id itself. The
canonical JSON sorts keys, has no spaces, writes datetimes as UTC ISO 8601 with
microseconds and integral floats as integers (PostgreSQL's jsonb may hand back
`1e2` as `100`), so a row hashes the same before and after a database round trip.
The head, one `ChainHead` row, is locked and moved here with one SQL statement
each, built from its `_meta`; `audit.writer` calls both in its transaction, or,
chaining on from where it last left the head, moves it from there in one
statement that needs no answer first (`move_chain_head_from`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.backends.utils import CursorWrapper

from audit.keys import UNKEYED, key_ring
from audit.models import ChainHead

GENESIS_HASH = "0" * 64
HEAD_PK = 1  # the call-record chain's head; audit.trail's governance chain has its own
NOT_NULL_VIOLATION = "23502"  # PostgreSQL's SQLSTATE

AUDITED_FIELDS = (
    "seq", "request_id", "trace_id", "client_id", "client_name", "caller_tool",
    "method", "provider", "model", "strategy", "routing", "attempts", "outcome",
    "error_class", "http_status", "latency_ms", "ttft_ms", "input_tokens",
    "output_tokens", "config_hash", "config_version", "started_at", "recorded_at",
)  # fmt: skip
KEYED_FIELDS = (
    *AUDITED_FIELDS, "door", "source_address", "token_prefix", "message", "usage_estimated",
    "key_id",
)  # fmt: skip


_PLAIN = frozenset({str, int, bool, type(None)})  # most audited values: nothing to do
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def normalise(value: Any) -> Any:
    """`value` as its canonical JSON holds it: equal before and after a round trip."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return value


def canonical_json(values: Mapping[str, Any], fields: tuple[str, ...] = AUDITED_FIELDS) -> str:
    audited = {name: normalise(values[name]) for name in fields}
    return _encode(audited)


def chain_hash(prev_hash: str, values: Mapping[str, Any]) -> str:
    """The row hash of a call record; raises `audit.keys.UnknownKey` for a key
    id `AUDIT_TRAIL_KEYS` does not list."""
    key_id = values.get("key_id") or UNKEYED
    fields = AUDITED_FIELDS if key_id == UNKEYED else KEYED_FIELDS
    return key_ring().digest(key_id, (prev_hash + canonical_json(values, fields)).encode())


def lock_chain_head(cursor: CursorWrapper, head: int = HEAD_PK) -> tuple[int, str]:
    """Lock a chain's head and return its `(seq, row_hash)`; call in a transaction.

    An UPDATE comes first because it locks on every backend: PostgreSQL holds
    the row until commit (writers on other hosts wait), and SQLite takes its
    write lock at once instead of failing a deferred read-then-write upgrade.
    A new trail has no head yet: create it (or wait for whoever just did) and lock.
    """
    sql = _head_sql()
    cursor.execute(sql.lock, [head])
    rows = cursor.fetchall()
    if not rows:
        cursor.execute(sql.create, [head, 0, GENESIS_HASH])
        cursor.execute(sql.lock, [head])
        rows = cursor.fetchall()
    seq, row_hash = rows[0]
    return seq, row_hash


def move_chain_head(cursor: CursorWrapper, seq: int, row_hash: str, head: int = HEAD_PK) -> None:
    """Point the locked chain head at the last entry written."""
    cursor.execute(_head_sql().move, [seq, row_hash, head])


def move_chain_head_from(
    cursor: CursorWrapper, seen: tuple[int, str], seq: int, row_hash: str, head: int = HEAD_PK
) -> None:
    """Lock the chain head and point it at `seq`/`row_hash` if it still stands at
    `seen`, in one statement that needs no answer before the next is sent
    (PostgreSQL only: an UPDATE in a WITH clause). Call it in a transaction,
    before the entries that chain on from `seen`. A head anywhere else (another
    writer moved it, or it is gone) fails the statement, and with it the
    transaction, with a not-null violation on the head that `head_moved` knows.

    A head found elsewhere gets the CASE's missing ELSE, NULL; a missing head
    moves nothing, and then the statement inserts a head with no seq. PostgreSQL
    evaluates the CASE on the head's latest version, once any writer holding its
    lock has committed.
    """
    cursor.execute(_head_sql().move_from, [*seen, seq, row_hash, head, head])


def head_moved(error: BaseException) -> bool:
    """Whether `error` (Django's, raised from psycopg's) is `move_chain_head_from`
    finding the head elsewhere than it was seen."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    return (
        getattr(cause, "sqlstate", None) == NOT_NULL_VIOLATION
        and diag is not None
        and diag.table_name == ChainHead._meta.db_table
        and diag.column_name == ChainHead._meta.get_field("seq").column
    )


class _HeadSQL(NamedTuple):
    lock: str
    create: str
    move: str
    move_from: str


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
        move_from=f"WITH moved AS (UPDATE {table} "
        f"SET {seq} = CASE WHEN {seq} = %s AND {row_hash} = %s THEN %s END, {row_hash} = %s "
        f"WHERE {pk} = %s RETURNING {pk}) "
        f"INSERT INTO {table} ({pk}, {seq}, {row_hash}) SELECT %s, NULL, '' "
        "WHERE NOT EXISTS (SELECT FROM moved)",
    )
