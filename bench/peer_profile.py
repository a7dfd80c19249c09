"""Where a gateway worker's time goes in a `make bench-peer` cell: py-spy, summarised.

Run: python bench/peer_profile.py SHAPE KIND [SECONDS]
  SHAPE  embedded | production (PostgreSQL and Redis on 127.0.0.1, as bench/peer.py)
  KIND   chat | mcp | stream | mcp_stream (the requests bench/peer.py sends)

It starts the fake upstream and the gateway with one worker, as bench/peer.py
does, sends KIND one call after another (concurrency 1, the latency targets' cell)
while `py-spy record` samples the worker, then prints the frames with the largest
share of the samples, inclusive and own. py-spy comes from PyPI
(`pip install py-spy`); it samples only the thread holding the GIL, so the
shares are of the Python time the worker spends, wherever it is spent.
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
import peer


def main() -> None:
    shape, kind = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    workdir = Path(tempfile.mkdtemp(prefix="llmcaller-peer-profile-"))
    command = [sys.executable, "bench/fake_upstream.py", str(peer.UPSTREAM_PORT), str(peer.CHUNKS)]
    upstream = harness.start(command, workdir=workdir, log_name="upstream.log")
    try:
        harness.wait_for(f"http://127.0.0.1:{peer.UPSTREAM_PORT}/v1/models")
        server, env = peer.start_gateway(shape, 1, workdir)
        request = server.requests[kind]
        asyncio.run(_calls(request, 2.0))  # warm up
        raw = workdir / "profile.txt"
        spy = subprocess.Popen([py_spy, "record", "--pid", str(server.process.pid), "--format",
                                "raw", "--rate", "500", "--duration", str(seconds), "--output",
                                str(raw), "--nonblocking", "--gil"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(1.0)
        calls = asyncio.run(_calls(request, seconds - 1.5))
        spy.wait()
        server.stop()
        if shape == "production":
            peer._drop_quietly(env["DATABASE_URL"])
        print(f"{shape}, {kind}: {calls} calls at concurrency 1 in {seconds - 1.5:g} s")
        _summarise(raw, calls)
    finally:
        upstream.terminate()
        upstream.wait()
    shutil.rmtree(workdir, ignore_errors=True)


async def _calls(request: dict, seconds: float) -> int:
    connection = peer.Connection(peer.GATEWAY_PORT)
    body = json.dumps(request["body"]).encode()
    deadline, count = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        await connection.call(request["path"], body, request["headers"])
        count += 1
    connection.close()
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
