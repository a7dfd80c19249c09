"""`make bench`: the gateway's added latency and throughput, measured over loopback.

It starts the lean fake upstream and the gateway (uvicorn, LLMCALLER_WORKERS
workers, default 2) on a throw-away SQLite database, or, when DATABASE_URL names
a PostgreSQL server, on a scratch database `llmcaller_bench` created and dropped
there (REDIS_URL, if set, is passed on), provisions a provider and a client
token through the management commands, then drives both with wrk: the
same non-streaming chat directly to the upstream and through the gateway, at
concurrency 1, 16 and 64. The difference is the gateway's overhead. Streams are
timed to their first delta, gateway against direct. Figures are printed, never
asserted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import (
    closed_port,
    create_database,
    django_setup,
    drop_database,
    environment,
    print_machine,
    provision,
    start_gateway,
    start_upstream,
    wrk,
)
from httpx_aiohttp import AiohttpTransport

UPSTREAM_PORT = int(os.environ.get("BENCH_UPSTREAM_PORT", "18001"))
GATEWAY_PORT = int(os.environ.get("BENCH_GATEWAY_PORT", "18037"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
WORKERS = os.environ.get("BENCH_WORKERS", "2")
BENCH_AUDIT_CALLS = int(os.environ.get("BENCH_AUDIT_CALLS", "5000"))
CONCURRENCY = [int(n) for n in os.environ.get("BENCH_CONCURRENCY", "1,16,64").split(",")]
# Only the wrk table: for comparing one change's added latency, run after run.
CHAT_ONLY = os.environ.get("BENCH_CHAT_ONLY", "") not in ("", "0")
MESSAGES = [{"role": "user", "content": "Say something short."}]


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench installs it).")
    workdir = Path(tempfile.mkdtemp(prefix="llmcaller-bench-"))
    env = environment(
        workdir, port=GATEWAY_PORT, workers=WORKERS,
        # The failover run measures every fallback, so the breaker must not open.
        ROUTING_BREAKER_FAILURES="1000000000",
    )  # fmt: skip
    processes = []
    create_database(env["DATABASE_URL"])
    try:
        processes.append(start_upstream(UPSTREAM_PORT))
        token = provision(env, UPSTREAM_PORT)
        processes.append(start_gateway(env, workdir))
        print_machine(env)
        _bench_chat(workdir, token)
        if not CHAT_ONLY:
            _bench_stream_first_delta(token)
            _bench_failover(env, token)
            calls, answered = asyncio.run(_load(token, BENCH_AUDIT_CALLS, 64))
        processes.pop().send_signal(signal.SIGTERM)  # graceful: in-flight calls finish
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    if not CHAT_ONLY:
        _report_records(env, calls, answered)
    drop_database(env["DATABASE_URL"])
    shutil.rmtree(workdir, ignore_errors=True)


def _bench_chat(workdir: Path, token: str) -> None:
    direct = {"model": "bench-model", "messages": MESSAGES}
    gateway = {"requestId": "bench", "callerTool": "bench", "provider": "bench",
               "model": "bench-model", "messages": MESSAGES}  # fmt: skip
    print(f"\nNon-streaming chat, wrk {DURATION} per row, gateway with {WORKERS} workers")
    print(f"{'conc':>4} | {'direct p50/p99 ms':>18} {'calls/s':>8} | "
          f"{'gateway p50/p99 ms':>19} {'calls/s':>8} | {'added p50 ms':>12}")  # fmt: skip
    for connections in CONCURRENCY:
        up = wrk(workdir, f"http://127.0.0.1:{UPSTREAM_PORT}/v1/chat/completions", direct,
                 {}, connections, DURATION)  # fmt: skip
        gw = wrk(workdir, f"http://127.0.0.1:{GATEWAY_PORT}/mcp/chat", gateway,
                 {"x-llm-caller-token": token}, connections, DURATION)  # fmt: skip
        print(f"{connections:>4} | {up['p50']:>8.2f} / {up['p99']:<7.2f} {up['rps']:>8.0f} | "
              f"{gw['p50']:>8.2f} / {gw['p99']:<8.2f} {gw['rps']:>8.0f} | "
              f"{gw['p50'] - up['p50']:>12.2f}")  # fmt: skip
        if gw["errors"]:
            print(f"     gateway answered {gw['errors']} non-2xx responses or socket errors")


def _bench_stream_first_delta(token: str, count: int = 200) -> None:
    direct = _first_delta_times(
        f"http://127.0.0.1:{UPSTREAM_PORT}/v1/chat/completions",
        {"model": "bench-model", "messages": MESSAGES, "stream": True}, {}, count,
    )  # fmt: skip
    gateway = _first_delta_times(
        f"http://127.0.0.1:{GATEWAY_PORT}/mcp/chatStream",
        {"requestId": "bench", "callerTool": "bench", "provider": "bench",
         "model": "bench-model", "messages": MESSAGES},
        {"x-llm-caller-token": token}, count,
    )  # fmt: skip
    print(f"\nStreams, time to first delta over {count} sequential calls (ms)")
    for name, times in (("direct", direct), ("gateway", gateway)):
        times.sort()
        p99 = times[int(len(times) * 0.99) - 1]
        print(f"{name:>8}: p50 {statistics.median(times):.2f}  p99 {p99:.2f}")


def _first_delta_times(url: str, body: dict, headers: dict, count: int) -> list[float]:
    times = []
    with httpx.Client(trust_env=False) as client:
        for _ in range(count):
            started = time.perf_counter()
            with client.stream("POST", url, json=body, headers=headers) as response:
                for chunk in response.iter_text():
                    if '"delta"' in chunk:
                        times.append((time.perf_counter() - started) * 1000)
                        break
    return times


def _bench_failover(env: dict[str, str], token: str, count: int = 300) -> None:
    """Added latency of one fallback: the default route's first step refuses
    connections, the chain moves on to the working provider."""
    django_setup(env)
    from providers.models import Model, Provider
    from routing.models import CapabilityScore, FallbackChain, FallbackStep

    down = Provider.objects.create(
        key="down", name="Refuses connections", kind="openai_compatible", retry_attempts=0,
        base_url=f"http://127.0.0.1:{closed_port()}",
    )  # fmt: skip
    first = Model.objects.create(provider=down, model_id="bench-model", capabilities=["chat"])
    CapabilityScore.objects.create(model=first, capability="chat", score=100, is_default=True)
    chain = FallbackChain.objects.create(name="bench", capability="chat", is_default=True)
    FallbackStep.objects.create(chain=chain, position=0, model=first)
    FallbackStep.objects.create(
        chain=chain, position=1, model=Model.objects.get(provider__key="bench")
    )
    time.sleep(1.5)  # workers notice the new configuration generation
    base = {"requestId": "bench", "callerTool": "bench", "messages": MESSAGES}
    pinned = _latencies({**base, "provider": "bench", "model": "bench-model"}, token, count)
    failover = _latencies(base, token, count)
    print(f"\nOne fallback (first step refuses connections), {count} sequential calls (ms)")
    print(f"  pinned to the working provider: p50 {statistics.median(pinned):.2f}")
    print(f"  default route with one fallback: p50 {statistics.median(failover):.2f}"
          f"  (+{statistics.median(failover) - statistics.median(pinned):.2f})")  # fmt: skip


def _latencies(body: dict, token: str, count: int) -> list[float]:
    url = f"http://127.0.0.1:{GATEWAY_PORT}/mcp/chat"
    times = []
    with httpx.Client(trust_env=False, headers={"x-llm-caller-token": token}) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.post(url, json=body).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


async def _load(token: str, calls: int, concurrency: int) -> tuple[int, int]:
    """`calls` chat calls, `concurrency` at a time; returns (made, answered 200)."""
    body = {"requestId": "bench-audit", "callerTool": "bench", "provider": "bench",
            "model": "bench-model", "messages": MESSAGES}  # fmt: skip
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    # httpx's own async pool manages about 140 calls/s here at this concurrency
    # (see DESIGN.md), so the load rides on aiohttp's pool, as the gateway does.
    transport = AiohttpTransport(limits=limits)
    async with httpx.AsyncClient(headers={"x-llm-caller-token": token}, transport=transport,
                                 trust_env=False, timeout=30) as client:  # fmt: skip

        async def one() -> bool:
            async with gate:
                response = await client.post(f"http://127.0.0.1:{GATEWAY_PORT}/mcp/chat", json=body)
                return response.status_code == 200

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(calls)))
        elapsed = time.perf_counter() - started
    rate = calls / elapsed
    print(f"\nAudit under load: {calls} calls at concurrency {concurrency} in {elapsed:.1f} s "
          f"({rate:.0f} calls/s, each awaiting its record)")  # fmt: skip
    return calls, sum(results)


def _report_records(env: dict[str, str], calls: int, answered: int) -> None:
    django_setup(env)
    from audit.models import CallRecord

    stored = CallRecord.objects.filter(request_id="bench-audit").count()
    verdict = "equal" if stored == calls else "NOT EQUAL"
    print(f"  calls made {calls}, answered {answered}, records stored after a graceful "
          f"shutdown {stored}: {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
