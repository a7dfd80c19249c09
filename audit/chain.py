"""The hash chain over call records: canonical form, hashing, and the lock.

`row_hash = sha256(prev_hash + canonical JSON of the audited fields)`. The
canonical JSON sorts keys, has no spaces, writes datetimes as UTC ISO 8601 with
microseconds and integral floats as integers (PostgreSQL's jsonb may hand back
`1e2` as `100`), so a row hashes the same before and after a database round trip.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db.models import F

from audit.models import ChainHead

GENESIS_HASH = "0" * 64
HEAD_PK = 1

AUDITED_FIELDS = (
    "seq", "request_id", "trace_id", "client_id", "client_name", "caller_tool",
    "method", "provider", "model", "strategy", "routing", "attempts", "outcome",
    "error_class", "http_status", "latency_ms", "ttft_ms", "input_tokens",
    "output_tokens", "config_hash", "config_version", "started_at", "recorded_at",
)  # fmt: skip


def _normalise(value: Any) -> Any:
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
    return json.dumps(audited, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, values: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(values)).encode()).hexdigest()


def lock_chain_head() -> ChainHead:
    """Lock and return the chain head; call inside `transaction.atomic()`.

    An UPDATE comes first because it locks on every backend: PostgreSQL holds
    the row until commit (writers on other hosts wait), and SQLite takes its
    write lock at once instead of failing a deferred read-then-write upgrade.
    """
    touched = ChainHead.objects.filter(pk=HEAD_PK).update(seq=F("seq"))
    if not touched:
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            pk=HEAD_PK, defaults={"seq": 0, "row_hash": GENESIS_HASH}
        )
        return head
    return ChainHead.objects.get(pk=HEAD_PK)
