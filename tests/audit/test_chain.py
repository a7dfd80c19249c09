"""The chain's hash is part of the stored trail: rows hashed by any release must
still verify under every later one."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from audit.chain import chain_hash
from audit.types import CallMethod, CallOutcome

ROW = {
    "seq": 42, "request_id": "req-ü-1", "trace_id": "", "client_id": None,
    "client_name": "Zoë ✓", "caller_tool": "cli", "method": CallMethod.CHAT_STREAM,
    "provider": "lmstudio", "model": "qwen", "strategy": "fallback",
    "routing": {"b": 1.0, "a": [2.5, 3.0, {"z": None, 7: True}], "c": ("x", 1e2)},
    "attempts": [{"latency_ms": 12.0, "ok": False}], "outcome": CallOutcome.UPSTREAM_ERROR,
    "error_class": "TEMPORARY", "http_status": 503, "latency_ms": 1234, "ttft_ms": None,
    "input_tokens": 0, "output_tokens": 7, "config_hash": "ab" * 32, "config_version": 3,
    "started_at": datetime(2026, 3, 29, 0, 30, 0, 1, tzinfo=ZoneInfo("Europe/Berlin")),
    "recorded_at": datetime(2026, 3, 28, 23, 30, 5, tzinfo=UTC),
    "prev_hash": "f" * 64, "row_hash": "not audited",
}  # fmt: skip


def test_a_rows_hash_is_the_one_earlier_releases_computed():
    # Pinned from the release before the raw-SQL writer: floats that are whole
    # hash as integers, datetimes as UTC, keys as sorted strings, text unescaped.
    expected = "85caf8044c4ba81976ba4ecb218b7dd316ee937e5bb3af9375ce8bbee4c39af4"

    assert chain_hash("f" * 64, ROW) == expected
