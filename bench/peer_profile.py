"""Where a gateway worker's time goes in a `make bench-peer` cell: py-spy, summarised.

Run: python bench/peer_profile.py SHAPE KIND [SECONDS [CONCURRENCY [WORKERS]]]
  SHAPE  embedded | production (PostgreSQL and Redis on 127.0.0.1, as bench/peer.py)
  KIND   chat | mcp | stream | mcp_stream (the requests bench/peer.py sends)

It starts the fake upstream and the gateway (one worker unless WORKERS says
more, sampled together), as bench/peer.py does, sends KIND one call after
another (concurrency 1, the latency targets' cell; or CONCURRENCY such loops at
once) while `py-spy record` samples the worker, then prints the frames with the
largest share of the samples, inclusive and own. py-spy comes from PyPI
(requirements-dev.txt pins it); it samples only the thread holding the GIL, so the
shares are of the Python time the worker spends.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
import lean_client
import peer_servers


def main() -> None:
    shape, kind = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    workdir = Path(tempfile.mkdtemp(prefix="llmcaller-peer-profile-"))
    upstream = peer_servers.start_upstream(workdir)
    upstream.memory.stop()  # only the gateway's time is of interest here
    try:
        server, env = peer_servers.start_gateway(shape, workers, workdir)
        request = server.requests[kind]
        asyncio.run(_calls(server.port, request, 2.0, concurrency))  # warm up
        raw = workdir / "profile.txt"
        spy = subprocess.Popen([py_spy, "record", "--pid", str(server.process.pid), "--format",
                                "raw", "--rate", "500", "--duration", str(seconds), "--output",
                                str(raw), "--nonblocking", "--gil", "--subprocesses"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(1.0)
        calls = asyncio.run(_calls(server.port, request, seconds - 1.5, concurrency))
        spy.wait()
        server.stop()
        if shape == "production":
            peer_servers.drop_quietly(env["DATABASE_URL"])
        print(f"{shape}, {workers} worker(s), {kind}: {calls} calls at concurrency "
              f"{concurrency} in {seconds - 1.5:g} s")  # fmt: skip
        _summarise(raw, calls)
        if os.environ.get("BENCH_PROFILE_RAW"):  # py-spy's raw stacks, for a closer look
            shutil.copy(raw, os.environ["BENCH_PROFILE_RAW"])
    finally:
        upstream.stop()
    shutil.rmtree(workdir, ignore_errors=True)


async def _calls(port: int, request: dict, seconds: float, concurrency: int) -> int:
    body = json.dumps(request["body"]).encode()
    deadline, count = time.perf_counter() + seconds, 0

    async def loop() -> None:
        nonlocal count
        connection = lean_client.Connection(port)
        while time.perf_counter() < deadline:
            await connection.call(request["path"], body, request["headers"])
            count += 1
        connection.close()

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return count


def _summarise(raw: Path, calls: int, top: int = 25) -> None:
    inclusive, own = collections.Counter(), collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_short(frame) for frame in stack.split(";")]
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    per_call = total / 500 * 1000 / max(calls, 1)
    print(f"{total} samples holding the GIL at 500/s: {per_call:.2f} ms per call")
    print("\nInclusive (share of the samples), the largest:")
    for frame, samples in inclusive.most_common(top):
        print(f"  {100 * samples / total:5.1f} %  {frame}")
    print("\nOwn time, the largest:")
    for frame, samples in own.most_common(top):
        print(f"  {100 * samples / total:5.1f} %  {frame}")


def _short(frame: str) -> str:
    """`function (path/to/module.py:line)` → `function (package/module.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    parts = path.split(os.sep)
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif str(harness.ROOT) in path:
        parts = Path(path).relative_to(harness.ROOT).parts
    else:
        parts = parts[-2:]
    return f"{name} ({'/'.join(parts)})"


if __name__ == "__main__":
    main()
