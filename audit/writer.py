"""One transaction that appends a batch of call records to the hash chain.

The batcher (async callers) and `record_call_sync` (sync callers) both end here.
The chain head is locked first, so seq numbers, `recorded_at` and hashes follow
commit order on every worker and host.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.budgets import count_usage
from audit.chain import chain_hash, lock_chain_head
from audit.models import CallContent, CallRecord, ChainHead
from audit.types import CallRecordData

_COPIED = (
    "request_id", "trace_id", "client_id", "client_name", "caller_tool", "method",
    "provider", "model", "strategy", "routing", "attempts", "outcome", "error_class",
    "http_status", "latency_ms", "ttft_ms", "input_tokens", "output_tokens",
    "config_hash", "config_version", "started_at",
)  # fmt: skip


def write_records(items: Sequence[CallRecordData]) -> list[CallRecord]:
    """Store `items` in one transaction, chained after the current head."""
    with transaction.atomic():
        head = lock_chain_head()
        now = timezone.now()
        rows = [_build_row(item, now) for item in items]
        for row in rows:
            row.seq = head.seq = head.seq + 1
            row.prev_hash = head.row_hash
            row.row_hash = head.row_hash = chain_hash(row.prev_hash, row.__dict__)
        CallRecord.objects.bulk_create(rows)
        CallContent.objects.bulk_create(
            _content_for(item, row, now) for item, row in zip(items, rows, strict=True)
            if item.keeps_content
        )  # fmt: skip
        ChainHead.objects.filter(pk=head.pk).update(seq=head.seq, row_hash=head.row_hash)
    count_usage(items)
    return rows


def _build_row(item: CallRecordData, now: datetime) -> CallRecord:
    values = {name: getattr(item, name) for name in _COPIED}
    for name, value in values.items():
        limit = CallRecord._meta.get_field(name).max_length
        if limit and isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]  # a long id must not fail the whole batch
    return CallRecord(**values, recorded_at=now)


def _content_for(item: CallRecordData, row: CallRecord, now: datetime) -> CallContent:
    days = item.content_retention_days
    if days is None:
        days = settings.AUDIT_CONTENT_RETENTION_DAYS
    return CallContent(
        record=row,
        prompt_text=item.prompt_text or "",
        response_text=item.response_text or "",
        expires_at=now + timedelta(days=days),
    )
