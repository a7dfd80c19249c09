"""Refusals before authentication, counted per minute instead of chained one by one.

A request refused before its client is known (no or a bad token, an address
outside the allowed networks, an address over its per-minute limit) is counted
in this process under (minute, source address, reason, token prefix, method).
The counts reach `RefusalCount` rows at most once every
`AUDIT_REFUSAL_FLUSH_SECONDS` per process, one upsert per distinct key, so a
flood of bad requests costs a dictionary increment each and a handful of writes
a second, however fast it comes. `flush_refusals()` writes what is pending (the
ASGI lifespan's shutdown calls it through `audit.services.flush_pending`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from audit.models import RefusalCount

RefusalKey = tuple[datetime, str, str, str, str]  # minute, source, reason, prefix, method

_pending: Counter[RefusalKey] = Counter()
_lock = threading.Lock()
_last_flush = 0.0


def count_refusal(
    *, at: datetime, source: str, reason: str, token_prefix: str = "", method: str = ""
) -> bool:
    """Count one refusal; True when it is time to write the pending counts."""
    global _last_flush
    minute = at.replace(second=0, microsecond=0)
    with _lock:
        _pending[(minute, source[:64], reason[:32], token_prefix[:16], method[:16])] += 1
        now = time.monotonic()
        if now - _last_flush < settings.AUDIT_REFUSAL_FLUSH_SECONDS:
            return False
        _last_flush = now
        return True


async def acount_refusal(**fields: object) -> None:
    """`count_refusal` from the event loop; the write, when due, runs on the thread
    Django keeps for sync work (its connection is closed with the others)."""
    if count_refusal(**fields):  # type: ignore[arg-type]
        await sync_to_async(flush_refusals)()


def flush_refusals() -> int:
    """Write every pending count; returns how many refusals were written."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    for key, count in batch.items():
        _add(key, count)
    return sum(batch.values())


def _add(key: RefusalKey, count: int) -> None:
    minute, source, reason, prefix, method = key
    fields = {"minute": minute, "source_address": source, "reason": reason,
              "token_prefix": prefix, "method": method}  # fmt: skip
    if RefusalCount.objects.filter(**fields).update(count=F("count") + count):
        return
    try:
        with transaction.atomic():
            RefusalCount.objects.create(count=count, **fields)
    except IntegrityError:  # another worker created the row meanwhile
        RefusalCount.objects.filter(**fields).update(count=F("count") + count)
