"""A gateway worker in miniature, for tests that need several processes on one
database: `python -m tests.audit.record_calls N [CONCURRENCY]` records N calls
through the batcher, 25 at a time unless told, as a worker's requests would.

It prints "ready" once Django is set up, starts when a line arrives on stdin (so
several workers start together), and exits non-zero if any record failed. The
database comes from DATABASE_URL. `start_workers` starts several, together.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tests.sandbox import BASE_DIR

CONCURRENCY = 25


async def _record(total: int, name: str, concurrency: int) -> None:
    from audit.services import flush_pending, record_call
    from tests.audit.factories import CallRecordDataFactory

    queue = iter(range(total))

    async def caller() -> None:
        for n in queue:
            await record_call(CallRecordDataFactory.build(request_id=f"{name}-{n}"))

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    await flush_pending()


def start_workers(
    env: dict[str, str], count: int, calls: int, concurrency: int = 25
) -> list[subprocess.Popen[str]]:
    """`count` of these workers on `env`'s database, recording together once all
    are set up."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit.record_calls", str(calls), str(concurrency)],
            env=env,
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.close()
    return workers


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")
    import django

    django.setup()
    print("ready", flush=True)
    sys.stdin.readline()
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else CONCURRENCY
    asyncio.run(_record(int(sys.argv[1]), f"pid{os.getpid()}", concurrency))


if __name__ == "__main__":
    main()
