"""Bench: how many call records per second group commit sustains, that every
call recorded is a row stored, and the CPU one quiet call's batch of one costs.

    python bench/audit.py [--records 20000] [--concurrency 500] [--singles 2000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/audit.py

Without DATABASE_URL it uses a temporary SQLite file; with one, Django's test
database beside it (`test_<name>`, created and dropped here). It never touches
the developer's var/ database. Prints figures; exits 1 if rows != calls or the
chain does not verify.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.types import CallRecordData

ROOT = Path(__file__).resolve().parents[1]
# Django and the app modules are imported inside functions: settings must be
# pointed at the scratch database before django.setup().


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--singles", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        _set_up_django(Path(scratch))
        from django.db import connection

        test_db = os.environ["DATABASE_URL"].startswith("postgres")
        if test_db:
            connection.creation.create_test_db(verbosity=0, autoclobber=True)
        else:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        try:
            result = asyncio.run(_run(args.records, args.concurrency))
            result["cpu_per_single"] = _cpu_per_single(args.singles)
            return _report(result, args.records, args.singles)
        finally:
            if test_db:
                connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def _set_up_django(scratch: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "llmcaller.settings"
    import django

    django.setup()


def _call(n: int) -> CallRecordData:
    from audit.types import CallRecordData

    return CallRecordData(
        request_id=f"bench-{n}",
        method="chat",
        outcome="success",
        started_at=datetime.now(UTC),
        client_id=n % 20,
        client_name=f"tool-{n % 20}",
        provider="lmstudio",
        model="bench-model",
        strategy="capability-default",
        routing={"capability": "chat"},
        latency_ms=n % 900,
        input_tokens=12,
        output_tokens=40,
    )


async def _run(total: int, concurrency: int) -> dict[str, float]:
    from audit.batcher import loop_batcher
    from audit.services import flush_pending, record_call

    queue = iter(range(total))

    async def caller() -> None:
        for n in queue:
            await record_call(_call(n))

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    batches = loop_batcher().batches
    await flush_pending()
    return {"elapsed": elapsed, "batches": batches}


def _cpu_per_single(count: int) -> float:
    """CPU seconds (this process: user + system) per `write_records([one])`,
    as a quiet gateway writes each call's record."""
    from audit.writer import write_records

    calls = [_call(n) for n in range(count)]
    started = time.process_time()
    for call in calls:
        write_records([call])
    return (time.process_time() - started) / max(count, 1)


def _report(result: dict[str, float], calls: int, singles: int) -> int:
    from django.db import connection

    from audit.models import CallRecord
    from audit.verification import run_verification

    rows = CallRecord.objects.count()
    verified = run_verification(actor="bench")
    print(f"database          {connection.vendor}")
    print(f"calls recorded    {calls} (+{singles} one at a time)")
    print(f"rows stored       {rows}")
    per_batch = calls / max(result["batches"], 1)
    print(f"transactions      {int(result['batches'])} ({per_batch:.0f} records each)")
    print(f"records/s         {calls / result['elapsed']:.0f}")
    print(f"CPU, batch of 1   {result['cpu_per_single'] * 1000:.2f} ms ({singles} in a row)")
    print(f"chain verifies    {verified.ok}")
    return 0 if rows == calls + singles and verified.ok else 1


if __name__ == "__main__":
    sys.exit(main())
