"""`python bench/control_state.py`: what sharing control state costs per call.

Several workers of one machine must share control state (rate counters, stream
slots, breakers, budgets), or each counts alone. This times the cache operations
one call makes on it (the rate counter's add and incr, one read of the breakers,
a token look-up) on the local-memory cache one worker keeps; on Django's database
cache over the embedded default's SQLite file (WAL, written under the one write
lock the audit writer also takes: what was measured and rejected first); on the
machine cache several workers share without Redis (`llmcaller.machine_cache`),
alone and with a second process making the same calls on the same file; and on
Redis when REDIS_URL names one. Figures are printed, never asserted.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")
WORKDIR = os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp(prefix="bench-control-")
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR}/control.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.cache.backends.db import DatabaseCache  # noqa: E402
from django.core.cache.backends.locmem import LocMemCache  # noqa: E402
from django.core.management import call_command  # noqa: E402

from llmcaller.machine_cache import MachineCache  # noqa: E402
from llmcaller.redis_cache import RedisCache  # noqa: E402

CALLS = 2_000
PROVIDERS = [f"provider-{n}" for n in range(5)]


def one_call(cache, n: int) -> None:
    key = "rate:1:29000000"
    cache.add(key, 0, 65)
    cache.incr(key)
    cache.get_many([f"breaker:{p}:{name}" for p in PROVIDERS for name in ("opened", "failures")])
    cache.get(f"token:{n % 50}")


def measure(name: str, cache) -> None:
    for n in range(50):
        cache.set(f"token:{n}", "missing", 600)
    times = []
    for n in range(CALLS):
        started = time.perf_counter()
        one_call(cache, n)
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    p50, p99 = statistics.median(times), times[int(len(times) * 0.99)]
    print(f"{name:<42} p50 {p50:8.1f} µs   p99 {p99:9.1f} µs   per call")


def machine_cache() -> MachineCache:
    return MachineCache(f"{WORKDIR}/control-cache", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def main() -> None:
    if sys.argv[1:] == ["--other-worker"]:  # the second process: the same calls, until killed
        cache, n = machine_cache(), 0
        while True:
            one_call(cache, n)
            n += 1
    call_command("createcachetable", "bench_control", verbosity=0)
    print(f"Control-state cache operations of one call, {CALLS} calls, one process")
    measure("local memory (each worker alone)", LocMemCache("bench", {}))
    measure("database cache, SQLite file (shared)", DatabaseCache("bench_control", {}))
    measure("machine cache (shared), alone", machine_cache())
    other = subprocess.Popen(
        [sys.executable, __file__, "--other-worker"], env={**os.environ, "BENCH_WORKDIR": WORKDIR}
    )
    try:
        time.sleep(1.0)  # its start-up
        measure("machine cache, another process busy on it", machine_cache())
    finally:
        other.kill()
        other.wait()
    if os.environ.get("REDIS_URL"):
        measure("Redis (shared)", RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "bench"}))


if __name__ == "__main__":
    main()
