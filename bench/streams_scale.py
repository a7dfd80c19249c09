"""`make bench-streams`: many concurrent slow streams on ONE gateway worker (issue 16).

It starts the fake upstream in its slow mode (`--slow-chunks N`: a delta at once,
then one a second, each carrying the upstream's send time) and the gateway
(`llmcaller.serve`, LLMCALLER_WORKERS=1, the embedded default: SQLite and the
local-memory cache) through `bench/harness.py`, provisions a provider and a client
token through the management commands, and lets that client hold as many streams
as the bench opens (`max_concurrent_streams`, `requests_per_minute`).

A lean client (raw asyncio connections on uvloop, no HTTP library) opens
BENCH_STREAMS streams (default 1,000) over BENCH_RAMP seconds through
`POST /mcp/chatStream` (BENCH_DOOR=v1, the default), `/v1/chat/completions` with
`"stream": true` (openai), or alternately both (both), and notes the arrival time
of every chunk. Meanwhile the worker's VmRSS is read from /proc every 0.2 s.

Reported: the worker's memory idle and at its peak; the time between chunks at
the client (p50, p99, max), its deviation from the upstream's own spacing (the
upstream's send times are in the chunks) and from the nominal interval; each
chunk's delay from the upstream's send to the client's read; streams completed
and failed; call records stored (after a graceful shutdown) against streams
made. Then PASS or MISS for each of the issue's targets. Figures, not asserts:
the exit status is 0 either way.

BENCH_PROFILE=FILE records the worker with py-spy (in requirements-dev.txt) while
the streams run, as a flame graph in FILE (an .svg).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import uvloop
from harness import (
    create_database,
    django_setup,
    drop_database,
    environment,
    print_machine,
    provision,
    rss_mb,
    start_gateway,
    start_upstream,
    worker_pids,
)

UPSTREAM_PORT = int(os.environ.get("BENCH_UPSTREAM_PORT", "18201"))
GATEWAY_PORT = int(os.environ.get("BENCH_GATEWAY_PORT", "18237"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
CHUNKS = int(os.environ.get("BENCH_CHUNKS", "20"))
INTERVAL = float(os.environ.get("BENCH_INTERVAL", "1.0"))
# 100 openings a second. Each costs the worker a few ms of CPU (auth, validation,
# routing, the upstream connection): at 500 a second (BENCH_RAMP=2) the openings
# take the worker's CPU and the open streams' chunks queue behind them.
RAMP = float(os.environ.get("BENCH_RAMP", "10.0"))
DOOR = os.environ.get("BENCH_DOOR", "v1")
CLIENT = "bench-streams"
REQUEST_ID = "streams-scale-{}-{}"

PEAK_LIMIT_MB = 300.0
GAP_TOLERANCE_MS = 20.0
SAMPLE_SECONDS = 0.2

_SENT = re.compile(rb'"content":"(\d+\.\d+) "')


@dataclass
class Stream:
    door: str
    opened: float = 0.0  # client's time.time() when the request was written
    status: int = 0
    arrivals: list[float] = field(default_factory=list)  # client's time.time()
    sent: list[float] = field(default_factory=list)  # the upstream's, from the chunk
    completed: bool = False  # the completion event (v1) or a finish_reason (openai)
    done: bool = False  # `[DONE]`
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.completed and self.done and not self.error and len(self.sent) == CHUNKS


def main() -> None:
    if DOOR not in ("v1", "openai", "both"):
        sys.exit("BENCH_DOOR is one of v1, openai, both.")
    files = _raise_open_files(2 * STREAMS + 1024)
    workdir = Path(tempfile.mkdtemp(prefix="llmcaller-streams-"))
    # A stream holds an upstream connection from start to end: the worker's pool
    # (UPSTREAM_MAX_CONNECTIONS, 200 by default) must hold them all, or the streams
    # beyond it wait, without a byte, for one to end.
    env = environment(workdir, port=GATEWAY_PORT, workers="1",
                      UPSTREAM_MAX_CONNECTIONS=os.environ.get("UPSTREAM_MAX_CONNECTIONS",
                                                              str(STREAMS + 64)))  # fmt: skip
    create_database(env["DATABASE_URL"])
    processes = []
    try:
        processes.append(
            start_upstream(
                UPSTREAM_PORT,
                "--slow-chunks",
                str(CHUNKS),
                "--interval",
                str(INTERVAL),
                workdir=workdir,
            )  # fmt: skip
        )
        token = provision(env, UPSTREAM_PORT, client=CLIENT)
        django_setup(env)
        _let_client_stream(STREAMS)
        gateway = start_gateway(env, workdir)
        processes.append(gateway)
        worker = worker_pids(gateway.pid)[0]
        _print_setup(env, files, worker)
        time.sleep(1.0)
        idle = rss_mb(worker)
        profiler = _profile(worker)
        streams, samples, lag = uvloop.run(_run(token, worker))
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its flame graph and exits
            profiler.wait(timeout=60)
        gateway.send_signal(signal.SIGTERM)  # graceful: every record is written
        gateway.wait(timeout=60)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    records = _records()
    _report(streams, samples, idle, lag, records)
    drop_database(env["DATABASE_URL"])
    shutil.rmtree(workdir, ignore_errors=True)


def _raise_open_files(needed: int) -> int:
    """Raise this process's open-file limit (the upstream and gateway it starts
    inherit it): each stream holds a client and an upstream socket in the worker."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))  # root may
            return needed
        except (ValueError, OSError):
            print(f"Open-file limit {hard} < {needed} needed, and it cannot be raised.")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _profile(worker: int) -> subprocess.Popen | None:
    output = os.environ.get("BENCH_PROFILE")
    if not output:
        return None
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([py_spy, "record", "--pid", str(worker), "--output", output,
                             "--rate", "200", "--nonblocking"])  # fmt: skip


def _let_client_stream(streams: int) -> None:
    """The bench client's limits hold every stream: one slot each, and room in its
    minute for all of them (set on the record, as the admin would)."""
    from llmcaller.models import Client

    Client.objects.filter(tool_id=CLIENT).update(
        max_concurrent_streams=streams, requests_per_minute=2 * streams
    )


def _print_setup(env: dict[str, str], files: int, worker: int) -> None:
    import uvicorn

    print_machine(env)
    config = uvicorn.Config("llmcaller.asgi:application")
    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("django", "uvicorn", "uvloop", "httptools", "httpx",
                                      "httpx-aiohttp", "aiohttp"))  # fmt: skip
    print(f"Versions: {versions}")
    print(f"uvicorn defaults (llmcaller.serve keeps them): backlog {config.backlog}, "
          f"limit_concurrency {config.limit_concurrency}")  # fmt: skip
    limits = Path(f"/proc/{worker}/limits").read_text()
    worker_files = re.search(r"Max open files\s+(\d+)", limits).group(1)
    print(f"Open files: limit {files} here, {worker_files} in the worker (pid {worker})")
    print(f"UPSTREAM_MAX_CONNECTIONS {env['UPSTREAM_MAX_CONNECTIONS']}")
    from django.conf import settings  # read from the same environment as the worker's

    print(f"The worker's collector thresholds (LLMCALLER_GC_THRESHOLDS): "
          f"{','.join(map(str, settings.LLMCALLER_GC_THRESHOLDS))}")  # fmt: skip
    print(f"\n{STREAMS} streams via {DOOR}, opened over {RAMP:g} s; upstream: {CHUNKS} deltas, "
          f"one every {INTERVAL:g} s; 1 gateway worker")  # fmt: skip


async def _run(token: str, worker: int) -> tuple[list[Stream], list[tuple], float]:
    loop = asyncio.get_running_loop()
    streams = [Stream(_door(index)) for index in range(STREAMS)]
    samples: list[tuple[float, float, int]] = []  # (seconds, RSS MB, streams open)
    opened = loop.time() + 0.5
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(worker, streams, samples, opened, stop))
    lag = asyncio.create_task(_loop_lag(stop))
    await asyncio.gather(*(
        _one(stream, index, token, opened + RAMP * index / STREAMS)
        for index, stream in enumerate(streams)
    ))  # fmt: skip
    stop.set()
    await sampler
    return streams, samples, await lag


def _door(index: int) -> str:
    return DOOR if DOOR != "both" else ("v1", "openai")[index % 2]


def _request(stream: Stream, index: int, token: str) -> bytes:
    messages = [{"role": "user", "content": f"Stream {index}, slowly."}]
    request_id = REQUEST_ID.format(stream.door, index)
    if stream.door == "v1":
        path, extra = "/mcp/chatStream", ""
        body = {"requestId": request_id, "callerTool": "bench-streams", "provider": "bench",
                "model": "bench-model", "messages": messages}  # fmt: skip
    else:
        path, extra = "/v1/chat/completions", f"x-client-request-id: {request_id}\r\n"
        body = {"model": "bench/bench-model", "messages": messages, "stream": True}
    payload = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{GATEWAY_PORT}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n"
            f"authorization: Bearer {token}\r\n{extra}\r\n")  # fmt: skip
    return head.encode() + payload


async def _one(stream: Stream, index: int, token: str, at: float) -> None:
    """One stream over its own connection; chunked transfer decoded by hand."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, at - loop.time()))
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", GATEWAY_PORT)
        writer.write(_request(stream, index, token))
        stream.opened = time.time()
        stream.status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if stream.status != 200:
            stream.error = f"HTTP {stream.status}: {(await reader.readexactly(length))[:200]!r}"
            return
        pending = b""
        while size := int((await reader.readline()).split(b";")[0], 16):
            data = await reader.readexactly(size + 2)
            now = time.time()
            pending += data[:-2]
            *events, pending = pending.split(b"\n\n")
            for event in events:
                _event(stream, event, now)
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        stream.error = repr(exc)
    finally:
        if writer is not None:
            writer.close()


def _event(stream: Stream, event: bytes, now: float) -> None:
    if event == b"data: [DONE]":
        stream.done = True
    elif b'"type":"completion"' in event or b'"delta":{},"finish_reason"' in event:
        stream.completed = True  # (checked first: v1's completion repeats the whole text)
    elif event.startswith(b'data: {"error"'):
        stream.error = event[6:206].decode(errors="replace")
    elif sent := _SENT.search(event):
        stream.arrivals.append(now)
        stream.sent.append(float(sent.group(1)))


async def _sample(worker: int, streams: list[Stream], samples: list, since: float,
                  stop: asyncio.Event) -> None:  # fmt: skip
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        open_now = sum(1 for s in streams if s.status == 200 and not s.done and not s.error)
        samples.append((loop.time() - since, rss_mb(worker), open_now))
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
        except TimeoutError:
            pass


async def _loop_lag(stop: asyncio.Event, every: float = 0.01) -> float:
    """The client's own worst event-loop delay (s): it bounds what the client adds."""
    loop, worst = asyncio.get_running_loop(), 0.0
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(every)
        worst = max(worst, loop.time() - before - every)
    return worst


def _records() -> tuple[int, Counter[str]]:
    from audit.models import CallRecord

    stored = CallRecord.objects.filter(request_id__startswith="streams-scale-")
    return stored.count(), Counter(stored.values_list("outcome", flat=True))


def _report(streams: list[Stream], samples: list, idle: float, lag: float,
            records: tuple[int, Counter[str]]) -> None:  # fmt: skip
    peak_at, peak, open_at_peak = max(samples, key=lambda sample: sample[1])
    most_open = max(sample[2] for sample in samples)
    print(f"\nGateway worker memory (VmRSS, MiB): idle {idle:.1f}, peak {peak:.1f} "
          f"at {peak_at:.1f} s with {open_at_peak} streams open (most open at once: "
          f"{most_open}); {(peak - idle) * 1024 / max(most_open, 1):.0f} KiB a stream")  # fmt: skip

    gaps, off_upstream, off_nominal, delays = [], [], [], []
    # Phases: streams still opening (until the last one's first delta), all open,
    # streams ending (from the first one's last delta).
    begun = [stream.arrivals for stream in streams if stream.arrivals]
    all_open = max(arrivals[0] for arrivals in begun) if begun else 0.0
    first_end = min(arrivals[-1] for arrivals in begun) if begun else 0.0
    phases: dict[str, list[float]] = {"opening": [], "all open": [], "ending": []}
    for stream in streams:
        delays += [(a - s) * 1000 for a, s in zip(stream.arrivals, stream.sent, strict=True)]
        for k in range(1, len(stream.arrivals)):
            gap = stream.arrivals[k] - stream.arrivals[k - 1]
            upstream_gap = stream.sent[k] - stream.sent[k - 1]
            gaps.append(gap * 1000)
            off_upstream.append(abs(gap - upstream_gap) * 1000)
            off_nominal.append(abs(gap - INTERVAL) * 1000)
            phase = ("opening" if stream.arrivals[k] <= all_open
                     else "ending" if stream.arrivals[k] > first_end else "all open")  # fmt: skip
            phases[phase].append(off_upstream[-1])
    print(f"Between chunks at the client, {len(gaps)} gaps (ms):")
    print(f"  gap                            {_spread(gaps)}")
    print(f"  |gap - upstream's own gap|     {_spread(off_upstream)}")
    print(f"  |gap - {INTERVAL * 1000:.0f} ms|                 {_spread(off_nominal)}")
    for phase, values in phases.items():
        print(f"    {len(values):>6} gaps {phase + ':':<17}{_spread(values)}")
    print(f"  chunk delay, upstream → client {_spread(delays)}")
    first = [(s.arrivals[0] - s.opened) * 1000 for s in streams if s.arrivals]
    print(f"  first delta after the request  {_spread(first)}")
    print(f"  (the client's own event loop lagged {lag * 1000:.1f} ms at worst)")

    completed = sum(stream.ok for stream in streams)
    failures = Counter(stream.error or "incomplete" for stream in streams if not stream.ok)
    print(f"Streams: {len(streams)} made, {completed} completed, {len(streams) - completed} failed")
    for reason, count in failures.most_common(5):
        print(f"  {count} × {reason[:160]}")
    stored, outcomes = records
    print(f"Call records stored after a graceful shutdown: {stored} for {len(streams)} "
          f"streams ({', '.join(f'{k} {v}' for k, v in outcomes.most_common())})")  # fmt: skip

    p99 = _percentile(off_upstream, 99) if off_upstream else float("inf")
    print()
    _verdict(peak < PEAK_LIMIT_MB, f"worker peak {peak:.1f} MiB < {PEAK_LIMIT_MB:.0f} MiB")
    _verdict(p99 <= GAP_TOLERANCE_MS,
             f"p99 gap deviation {p99:.1f} ms <= {GAP_TOLERANCE_MS:.0f} ms")  # fmt: skip
    _verdict(completed == len(streams), f"{completed} of {len(streams)} streams completed")
    _verdict(stored == len(streams), f"{stored} records for {len(streams)} streams")


def _verdict(met: bool, text: str) -> None:
    print(f"{'PASS' if met else 'MISS'}  {text}")


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"p50 {_percentile(values, 50):8.2f}  p99 {_percentile(values, 99):8.2f}  "
            f"max {max(values):8.2f}")  # fmt: skip


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


if __name__ == "__main__":
    main()
