"""Bench: what QA's pages, the writer and the audit commands cost as the call
records grow to millions of rows on PostgreSQL.

    make bench-records
    RECORDS_SCALE_SIZES=100000 python bench/records_scale.py        # a smoke run

For each size (`RECORDS_SCALE_SIZES`, default 1,000,000, 3,000,000 and
10,000,000) it empties a scratch database (`RECORDS_SCALE_DATABASE`, default
postgres://postgres@127.0.0.1:5432/llmcaller_scale, created and dropped here),
bulk-loads that many chained records over `RECORDS_SCALE_DAYS` (default 90) days
(bench/records_load.py), rolls them up, and times, as a superuser through
Django's test client: the call-record list plain, with each filter, with each
search and on a later page; a record; the CSV export of one day (peak Python
memory by tracemalloc); the dashboard's windows; a whole `verify_audit --full`,
then `verify_audit` after 10,000 new records; group commit's records/s (as
bench/audit.py drives it) against the same figure on the empty table; and
pruning the oldest month (the deletes; `prune_audit` walks the whole chain
first, as long as "verify full"). Past `RECORDS_SCALE_FULL_WALK_MAX` records
(default 3,000,000) the whole walk is skipped and the loaded head sealed by the
bench, so the incremental check still has a start. Each page is its median of `RECORDS_SCALE_REPEAT`
(default 3) loads after one unmeasured load. Prints a table; asserts nothing,
but says when the chain does not verify.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/llmcaller_scale"
_SIZES = os.environ.get("RECORDS_SCALE_SIZES", "1000000,3000000,10000000")
SIZES = [int(size) for size in _SIZES.split(",")]
DAYS = float(os.environ.get("RECORDS_SCALE_DAYS", "90"))
REPEAT = int(os.environ.get("RECORDS_SCALE_REPEAT", "3"))
NEW_RECORDS = 10_000
FULL_WALK_MAX = int(os.environ.get("RECORDS_SCALE_FULL_WALK_MAX", "3000000"))
THROUGHPUT_RECORDS = 20_000
TABLES = (
    "audit_callcontent", "audit_callrecord", "audit_chainhead", "audit_hourlyrollup",
    "audit_rollupstate", "audit_auditverification", "audit_prunecheckpoint",
    "audit_trailentry", "audit_configchange",
)  # fmt: skip


def main() -> int:
    url = os.environ.get("RECORDS_SCALE_DATABASE", DEFAULT_URL)
    name = url.rsplit("/", 1)[1]
    _database(url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    try:
        _set_up_django(url)
        results = {"empty": {"insert/s": _throughput()}}
        for size in SIZES:
            results[f"{size:,}"] = _measure(size)
            _print(results)
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        _database(url, f"DROP DATABASE IF EXISTS {name}")


def _database(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as db:
        for statement in statements:
            db.execute(statement)


def _set_up_django(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "llmcaller.settings"
    os.environ.setdefault("AUDIT_TRAIL_KEYS", "bench:a-trail-key-for-the-bench-only-0123")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, and no e-mail
    call_command("migrate", verbosity=0)
    _empty()


def _empty() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")


def _measure(size: int) -> dict[str, Any]:
    from audit.retention import prune_call_records
    from audit.rollups import roll_up_hours
    from bench.records_load import load_records

    _empty()
    found: dict[str, Any] = {"load s": load_records(size, days=DAYS)}
    found["roll-up s"] = _timed(roll_up_hours)
    found.update(_pages())
    found.update(_export_day())
    found.update(_verification(size))
    found["insert/s"] = _throughput()
    found["prune month s"] = _timed(
        lambda: prune_call_records(older_than_days=int(DAYS) - 30, actor="bench")
    )
    return found


def _pages() -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from audit.models import CallRecord

    user = get_user_model().objects.filter(username="bench").first()
    user = user or get_user_model().objects.create_superuser("bench", "b@example.com", "x")
    client = Client()
    client.force_login(user)
    today = datetime.now(UTC).date()
    some = CallRecord.objects.filter(seq=1234).values("pk", "request_id", "trace_id").get()
    base = "/admin/audit/callrecord/"
    pages = {
        "list": base,
        "list page 50": f"{base}?p=50",
        "outcome": f"{base}?outcome__exact=upstream_error",
        "failed": f"{base}?failed=1",
        "door": f"{base}?door__exact=mcp",
        "method": f"{base}?method__exact=embed",
        "error class": f"{base}?error_class__exact=RATE_LIMIT",
        "strategy": f"{base}?strategy__exact=fallback",
        "client": f"{base}?client_name__exact=client-7",
        "provider": f"{base}?provider__exact=ollama",
        "model": f"{base}?model__exact=model-3",
        "config version": f"{base}?config_version=4",
        "started today": f"{base}?started_at__gte={today}&started_at__lt={today + timedelta(1)}",
        "date drill-down": f"{base}?started_at__year={today.year}&started_at__month={today.month}",
        "search request": f"{base}?q={some['request_id']}",
        "search trace": f"{base}?q={some['trace_id']}",
        "search address": f"{base}?q=10.0.3.17",
        "record": f"{base}{some['pk']}/change/",
        "overview": "/admin/",
        "dashboard hour": "/admin/audit/dashboard/?window=hour",
        "dashboard day": "/admin/audit/dashboard/?window=day",
        "dashboard week": "/admin/audit/dashboard/?window=week",
    }
    return {f"page {name} s": _page_time(client, url) for name, url in pages.items()}


def _page_time(client: Any, url: str) -> float:
    response = client.get(url)  # warms caches; not counted
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _export_day() -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    day = datetime.now(UTC).date() - timedelta(days=2)
    url = (
        "/admin/audit/callrecord/export.csv"
        f"?started_at__gte={day}&started_at__lt={day + timedelta(1)}"
    )
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"export rows": lines - 1, "export s": elapsed, "export peak MiB": peak / 2**20}


def _verification(size: int) -> dict[str, Any]:
    from audit.verification import run_verification
    from audit.writer import write_records

    found: dict[str, Any] = {}
    if size <= FULL_WALK_MAX:
        started = time.perf_counter()
        whole = run_verification(actor="bench", full=True)
        found["verify full s"] = time.perf_counter() - started
    else:
        whole = _seal_loaded_head()
    for first in range(0, NEW_RECORDS, 500):
        write_records([_call(n) for n in range(first, first + 500)])
    started = time.perf_counter()
    step = run_verification(actor="bench")
    found["verify +10k s"] = time.perf_counter() - started
    found["verify +10k checked"] = step.records_checked
    found["chain ok"] = whole.ok and step.ok
    if not found["chain ok"]:
        print("The chain does not verify:", (whole.problems + step.problems)[:5])
    return found


def _seal_loaded_head() -> Any:
    """A sealed verification of the loaded head without walking to it: the
    bench holds the key and made the rows (an operator vouching for a restore
    would do the same). Past FULL_WALK_MAX only the incremental check is timed."""
    from django.utils import timezone

    from audit.models import ChainHead
    from audit.verification import _store

    head = ChainHead.objects.get(pk=1)
    return _store(
        started_at=timezone.now(), actor="bench: loaded, not walked", ok=True,
        records_checked=0, from_seq=1, head_seq=head.seq, head_hash=head.row_hash,
        entries_checked=0, trail_head_seq=0, trail_head_hash="", anchor="", problems=[],
    )  # fmt: skip


def _call(n: int) -> Any:
    from audit.types import CallRecordData

    # Callers' request ids and the gateway's trace ids land anywhere in their
    # indexes, as random ids do: the cost an index adds grows with the table.
    return CallRecordData(
        request_id=uuid.uuid4().hex, trace_id=uuid.uuid4().hex, method="chat", outcome="success",
        started_at=datetime.now(UTC), client_id=n % 20, client_name=f"tool-{n % 20}",
        provider="lmstudio", model="bench-model", strategy="capability-default",
        routing={"capability": "chat"}, latency_ms=n % 900, input_tokens=12, output_tokens=40,
    )  # fmt: skip


def _throughput() -> float:
    """Group commit's records/s with 500 callers, as bench/audit.py drives it:
    the median of three runs (one run's figure moved by a third on a shared machine)."""
    return statistics.median(_throughput_once() for _ in range(3))


def _throughput_once() -> float:
    from audit.services import flush_pending, record_call

    async def run() -> float:
        queue = iter(range(THROUGHPUT_RECORDS))

        async def caller() -> None:
            for n in queue:
                await record_call(_call(n))

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(500)))
        elapsed = time.perf_counter() - started
        await flush_pending()
        return THROUGHPUT_RECORDS / elapsed

    return asyncio.run(run())


def _timed(function: Any) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _print(results: dict[str, dict[str, Any]]) -> None:
    sizes = list(results)
    names = list(dict.fromkeys(name for found in results.values() for name in found))
    print("\n" + " | ".join(["measure", *sizes]))
    print(" | ".join(["---"] * (len(sizes) + 1)))
    for name in names:
        cells = [_cell(results[size].get(name)) for size in sizes]
        print(" | ".join([name, *cells]))
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.3f}"
    return f"{value:,}"


if __name__ == "__main__":
    sys.exit(main())
