"""Bulk-loading call records for bench/records_scale.py: a chain that verifies.

Rows are made in Python in seq order and hashed with the chain's own
`chain_hash` under the current trail key, so `verify_audit` checks them as it
checks the gateway's; they go in with one COPY while the table's secondary
indexes are dropped, and the indexes are built again afterwards (one sort each,
instead of millions of random inserts). Timestamps rise with seq, as commit
order makes them: `days` of traffic ending a few minutes ago.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

CLIENTS = 50
PROVIDERS = ("lmstudio", "ollama", "openai", "anthropic", "vllm-lab")
MODELS = 20
OUTCOMES = (("success", "", 200),) * 30 + (
    ("upstream_error", "TEMPORARY", 503),
    ("rejected_limit", "RATE_LIMIT", 429),
    ("invalid_request", "BAD_REQUEST", 400),
)  # about 9 % fail
DOORS = ("v1", "v1", "openai", "mcp")
METHODS = ("chat", "chat", "chatStream", "embed")
STRATEGIES = ("capability-default", "task-preference", "caller-override", "fallback")


def load_records(count: int, *, days: float, batch: int = 50_000) -> float:
    """Append `count` chained records after the current head; seconds taken."""
    from django.db import connection, transaction

    from audit.chain import lock_chain_head, move_chain_head
    from audit.models import CallRecord

    started = time.perf_counter()
    meta = CallRecord._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    dropped = _drop_indexes(meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        seq, row_hash = lock_chain_head(cursor)
        end = datetime.now(UTC) - timedelta(minutes=5)
        tail = {"hash": row_hash}
        rows = _rows(seq, tail, count, end - timedelta(days=days), end, fields)
        with cursor.cursor.copy(f"COPY {meta.db_table} ({columns}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)
        move_chain_head(cursor, seq + count, tail["hash"])
    _build_indexes(dropped)
    return time.perf_counter() - started


def _rows(
    seq: int, tail: dict[str, str], count: int, first: datetime, last: datetime, fields: list
) -> Iterator[list[Any]]:
    """The records after `seq`, chained from `tail["hash"]`, which ends as the last hash."""
    from audit.chain import chain_hash
    from audit.keys import key_ring

    key_id = key_ring().current_id
    step = (last - first) / max(count, 1)
    names, prev = [f.attname for f in fields], tail["hash"]
    for n in range(seq + 1, seq + count + 1):
        values = _values(n, first + step * (n - seq), key_id)
        values["seq"], values["prev_hash"] = n, prev
        values["row_hash"] = prev = chain_hash(prev, values)
        row = [values[name] for name in names]
        tail["hash"] = prev
        yield [json.dumps(v) if isinstance(v, dict | list) else v for v in row]


def _values(n: int, started: datetime, key_id: str) -> dict[str, Any]:
    # A client keeps its route, method and strategy, as a calling tool does, so an
    # hour rolls up into about CLIENTS x 4 outcomes rows however many calls it held.
    client = n % CLIENTS
    outcome, error_class, status = OUTCOMES[n % len(OUTCOMES)]
    provider, model = PROVIDERS[client % len(PROVIDERS)], f"model-{client % MODELS}"
    strategy, method = STRATEGIES[client % len(STRATEGIES)], METHODS[client % len(METHODS)]
    latency = 40 + n * 7919 % 2000
    return {
        "request_id": f"req-{n:09d}", "trace_id": f"{n * 2654435761 % 2**64:032x}",
        "client_id": client, "client_name": f"client-{client}",
        "caller_tool": "bench-tool", "method": method, "door": DOORS[n % len(DOORS)],
        "source_address": f"10.0.{client % 7}.{n % 200}", "token_prefix": f"tok{client:03d}",
        "provider": provider, "model": model, "strategy": strategy,
        "routing": {"capability": "chat", "strategy": strategy},
        "attempts": [{"provider": provider, "model": model, "outcome": outcome}],
        "outcome": outcome, "error_class": error_class,
        "message": "Upstream failed." if error_class else "", "http_status": status,
        "latency_ms": latency, "ttft_ms": latency // 4 if method == "chatStream" else None,
        "input_tokens": 20 + n % 300, "output_tokens": 50 + n % 700, "usage_estimated": False,
        "config_hash": "c0ffee" * 4, "config_version": 1 + n * 10 // 1_000_003 % 10,
        "started_at": started, "recorded_at": started + timedelta(milliseconds=latency),
        "key_id": key_id,
    }  # fmt: skip


def _drop_indexes(table: str) -> list[str]:
    """Drop the table's secondary indexes (not the primary key, not constraints);
    return the statements that build them again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = %s::regclass AND NOT x.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            [table],
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def _build_indexes(definitions: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for definition in definitions:
            cursor.execute(definition)
        # As autovacuum leaves a table at rest: statistics, and the visibility map
        # that lets a count read an index alone.
        cursor.execute("VACUUM (ANALYZE) audit_callrecord")
