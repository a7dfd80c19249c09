"""Bench: what the audit dashboard costs over a week of roll-ups, alone.

    python bench/dashboard_rollups.py

The dashboard's day and week read the hourly roll-ups, never the call records,
so their cost follows the roll-up rows, not the table: this bench writes only
roll-ups, `DASHBOARD_BENCH_GROUPS` (default 200: 50 clients x 4 outcomes, as
bench/records_load.py's records roll up) for each of the last 168 hours
(~34,000 rows) into a scratch PostgreSQL database (`DASHBOARD_BENCH_DATABASE`,
default postgres://postgres@127.0.0.1:5432/dash_bench, created and dropped
here), then times `dashboard_context` for the hour, day and week: the median of
`DASHBOARD_BENCH_REPEAT` (default 5) calls after one unmeasured call. Prints;
asserts nothing. In seconds, not minutes: `make bench-records` times the same
pages through the admin at millions of records.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dash_bench"
GROUPS = int(os.environ.get("DASHBOARD_BENCH_GROUPS", "200"))
REPEAT = int(os.environ.get("DASHBOARD_BENCH_REPEAT", "5"))
HOURS = 168
CLIENTS = 50
PROVIDERS = ("lmstudio", "ollama", "openai", "anthropic", "vllm-lab")
OUTCOMES = (
    ("success", ""),
    ("upstream_error", "TEMPORARY"),
    ("rejected_limit", "RATE_LIMIT"),
    ("invalid_request", "BAD_REQUEST"),
)
METHODS = ("chat", "chat", "chatStream", "embed")
STRATEGIES = ("capability-default", "task-preference", "caller-override", "fallback")


def main() -> int:
    url = os.environ.get("DASHBOARD_BENCH_DATABASE", DEFAULT_URL)
    harness.create_database(url)
    try:
        os.environ.setdefault("AUDIT_TRAIL_KEYS", "bench:a-trail-key-for-the-bench-only-0123")
        harness.django_setup({"DATABASE_URL": url})
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        now = datetime.now(UTC)
        rows = _write_rollups(now)
        print(f"{rows:,} roll-up rows ({HOURS} hours x {GROUPS} groups)")
        for window in ("hour", "day", "week"):
            times = _timed(window, now)
            print(
                f"dashboard_context {window:>4}: median {statistics.median(times):.3f} s "
                f"(of {', '.join(f'{t:.3f}' for t in times)})"
            )
        return 0
    finally:
        harness.drop_database(url)


def _write_rollups(now: datetime) -> int:
    from django.db import connection

    from audit.models import LATENCY_BUCKETS_MS, HourlyRollup

    last = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    for h in range(HOURS):
        hour = last - timedelta(hours=h)
        for g in range(GROUPS):
            client = g % CLIENTS
            outcome, error_class = OUTCOMES[g // CLIENTS % len(OUTCOMES)]
            calls = 10 + (h * 31 + g * 17) % 90
            buckets = [0] * (len(LATENCY_BUCKETS_MS) + 1)
            for n in range(calls):  # latencies spread over a few buckets, as bench records'
                buckets[14 + (h + g + n) % 20] += 1
            rows.append(HourlyRollup(
                hour=hour, client_id=client, client_name=f"client-{client}",
                provider=PROVIDERS[client % len(PROVIDERS)], model=f"model-{client % 20}",
                method=METHODS[client % len(METHODS)], outcome=outcome, error_class=error_class,
                strategy=STRATEGIES[client % len(STRATEGIES)], calls=calls,
                errors=0 if outcome == "success" else calls, input_tokens=calls * 170,
                output_tokens=calls * 400, latency_sum_ms=calls * 900, latency_max_ms=2000,
                latency_buckets=buckets, estimated_calls=calls // 10,
                estimated_tokens=calls // 10 * 570,
            ))  # fmt: skip
    HourlyRollup.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_hourlyrollup")
    return len(rows)


def _timed(window: str, now: datetime) -> list[float]:
    from audit.dashboard import WINDOWS, dashboard_context

    dashboard_context(window=WINDOWS[window], now=now)  # warms connection and caches
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        dashboard_context(window=WINDOWS[window], now=now)
        times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    sys.exit(main())
