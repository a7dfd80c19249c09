"""`make bench-peer`: the gateway against the LiteLLM proxy, same requests, one run.

One fast fake upstream (`bench/fake_upstream.py`, streams of 20 chunks) is
called directly, through LiteLLM (1 and 2 workers) and through the gateway
(`/v1/chat/completions`, the same request LiteLLM gets, and the v1 API's
`/mcp/chat`), in two shapes:

- embedded: LiteLLM without a database (a master key is the least it starts
  with), the gateway on its embedded default: SQLite, no Redis; with one worker
  its control state is in memory, with more the workers share it through the
  machine cache (files beside the database, llmcaller.machine_cache);
- production: both on the local PostgreSQL and Redis. LiteLLM gets a database
  of its own, a master key, a virtual key checked against the database and its
  spend logs; the gateway DATABASE_URL and REDIS_URL. LiteLLM needs the Prisma
  engines for its database, which its CLI downloads at the first start; when
  that fails (no network), the failure is printed and LiteLLM runs without the
  database, with its master key and Redis, which makes its figures an upper bound.

Per server: wrk at concurrency 1, 16 and 64 (p50, p99, calls/s, errors); streams
timed by a lean asyncio client (time to the first content chunk and to the end,
concurrency 1 and 64); the peak of the summed resident memory of the server's
processes; for the gateway, its call records against the calls made. Then the
ratios to LiteLLM and PASS/MISS per target (`bench/peer_report.py` prints them).
The servers and how each shape starts them are `bench/peer_servers.py`.
Prints; asserts nothing.

LiteLLM comes from its own virtualenv (BENCH_PEER_VENV; `make bench-peer`
creates it). Variables: BENCH_DURATION (wrk, per cell, default 10s),
BENCH_STREAM_SECONDS (default 5), BENCH_PEER_EMBEDDED_WORKERS and
BENCH_PEER_PROD_WORKERS (gateway worker counts, default "1,2"), BENCH_PEER_SHAPES (default
"embedded,production"), BENCH_PEER_AUDIT_CALLS (default 2000), BENCH_PEER_ROUNDS (default
1). With several rounds each shape's servers are started and measured again, one
after another, round after round; each cell prints the median of the rounds (errors
and calls summed), and each verdict its value in every round: on a machine whose
speed drifts, a ratio of two figures measured minutes apart is worth more as a
median than as one reading.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

import harness
import lean_client
from peer_report import (
    CONCURRENCY,
    STREAM_CONCURRENCY,
    Plan,
    print_verdicts,
    ratios,
    report_shape,
)
from peer_servers import (
    CHUNKS,
    GATEWAY_PORT,
    LITELLM_PORT,
    UPSTREAM_PORT,
    VENV,
    Server,
    drop_quietly,
    port_free,
    postgres,
    services_up,
    start_gateway,
    start_litellm,
    start_upstream,
)

ROOT = harness.ROOT
DURATION = os.environ.get("BENCH_DURATION", "10s")
STREAM_SECONDS = float(os.environ.get("BENCH_STREAM_SECONDS", "5"))
SEQUENTIAL_STREAMS = int(os.environ.get("BENCH_PEER_SEQUENTIAL_STREAMS", "200"))
AUDIT_CALLS = int(os.environ.get("BENCH_PEER_AUDIT_CALLS", "2000"))
EMBEDDED_WORKERS = [int(n) for n in os.environ.get("BENCH_PEER_EMBEDDED_WORKERS", "1,2").split(",")]
PROD_WORKERS = [int(n) for n in os.environ.get("BENCH_PEER_PROD_WORKERS", "1,2").split(",")]
SHAPES = os.environ.get("BENCH_PEER_SHAPES", "embedded,production").split(",")
ROUNDS = int(os.environ.get("BENCH_PEER_ROUNDS", "1"))
PLAN = Plan(DURATION, CHUNKS, SEQUENTIAL_STREAMS, STREAM_SECONDS, ROUNDS)
SUMMED = frozenset({"errors", "requests", "calls"})  # a cell's counts; its other figures: medians

# ---------------------------------------------------------------------------
# Measuring.


def measure(server: Server | None, workdir: Path, kinds: tuple[str, ...]) -> dict:
    """wrk cells per request kind, streams, memory. `kinds` name the plain calls
    in server.requests; the stream kinds follow ("chat" → "stream", "mcp" →
    "mcp_stream")."""
    if server is None:
        return {}
    base = f"http://127.0.0.1:{server.port}"
    results: dict = {"calls": 0}
    for name, request in server.requests.items():  # each answers before it is measured
        answer = asyncio.run(lean_client.one(server.port, request))
        results["calls"] += 1
        if answer[0] != 200:
            print(f"  {server.name} answered {name} with {answer[0]}: {answer[4][:300]!r}")
    warm = server.requests[kinds[0]]
    warmed = harness.wrk(workdir, base + warm["path"], warm["body"], warm["headers"], 16, "2s")
    results["calls"] += warmed["requests"]
    for kind in kinds:
        request = server.requests[kind]
        for connections in CONCURRENCY:
            cell = harness.wrk(workdir, base + request["path"], request["body"],
                               request["headers"], connections, DURATION)  # fmt: skip
            results[(kind, connections)] = cell
            results["calls"] += cell["requests"]
        stream = {"chat": "stream", "mcp": "mcp_stream"}[kind]
        for connections in STREAM_CONCURRENCY:
            cell = asyncio.run(_time_streams(server.port, server.requests[stream], connections))
            results[(stream, connections)] = cell
            results["calls"] += cell["calls"]
    return results


def _time_streams(port: int, request: dict, concurrency: int):
    return lean_client.time_streams(
        port, request, concurrency, seconds=STREAM_SECONDS, sequential=SEQUENTIAL_STREAMS,
        chunks=CHUNKS,
    )  # fmt: skip


def audit(server: Server, env: dict) -> dict:
    """AUDIT_CALLS calls at concurrency 64 through both doors, tagged, then a
    graceful stop; the records stored under the tags against the calls made."""
    v1 = dict(server.requests["chat"])
    v1["headers"] = {**v1["headers"], "X-Client-Request-Id": "peer-audit"}
    mcp = dict(server.requests["mcp"])
    mcp["body"] = {**mcp["body"], "requestId": "peer-audit"}
    made = asyncio.run(lean_client.exact_calls(GATEWAY_PORT, [v1, mcp], AUDIT_CALLS, 64))
    made["peak_mib"] = server.stop(graceful=True)
    script = (
        "import json; from audit.models import CallRecord as R; "
        "print(json.dumps({'tagged': R.objects.filter(request_id='peer-audit').count(), "
        "'all': R.objects.count()}))"
    )
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], env=env, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    made.update(json.loads(out.strip().splitlines()[-1]))
    return made


# ---------------------------------------------------------------------------


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench-peer installs it).")
    if not (VENV / "bin/litellm").exists():
        sys.exit(f"No LiteLLM in {VENV}: `make bench-peer` installs it.")
    for port in (UPSTREAM_PORT, LITELLM_PORT, GATEWAY_PORT):
        port_free(port)
    workdir = Path(tempfile.mkdtemp(prefix="llmcaller-peer-"))
    upstream = start_upstream(workdir)
    try:
        _print_versions()
        direct = _measure_direct(upstream, workdir)
        rows, gateways_by_shape = [], {}
        by_round: list[list[tuple]] = [[] for _ in range(ROUNDS)]
        for shape in SHAPES:
            if shape == "production" and not services_up():
                print("\nPostgreSQL or Redis is not running on 127.0.0.1: no production shape")
                continue
            notes: dict = {}
            rounds = [_round(shape, r, workdir, notes) for r in range(ROUNDS)]
            peers = {w: _combined([peers[w] for peers, _ in rounds]) for w in rounds[0][0]}
            gateways = {w: _combined([gws[w] for _, gws in rounds]) for w in rounds[0][1]}
            notes["gateway"] = (
                f"SQLite, no Redis ({EMBEDDED_WORKERS} workers; 1: memory, more: the machine cache)"
                if shape == "embedded"
                else f"PostgreSQL (DATABASE_URL), Redis (REDIS_URL), {PROD_WORKERS} workers"
            )
            report_shape(shape, direct, peers, gateways, notes, PLAN)
            rows += ratios(shape, direct, peers, gateways)
            for r, (round_peers, round_gateways) in enumerate(rounds):
                by_round[r] += ratios(shape, direct, round_peers, round_gateways)
            gateways_by_shape[shape] = gateways
        print_verdicts(rows, gateways_by_shape, by_round)
    finally:
        upstream.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def _round(shape: str, number: int, workdir: Path, notes: dict) -> tuple[dict, dict]:
    """One round of a shape: LiteLLM with 1 and 2 workers, then the gateway with
    each worker count, each started afresh (a directory of their own per round).
    Only the last round checks the gateway's records (it stops it gracefully)."""
    workdir = workdir / f"{shape}-{number + 1}"
    workdir.mkdir()
    last = number == ROUNDS - 1
    label = f" (round {number + 1} of {ROUNDS})" if ROUNDS > 1 else ""
    peers = {}
    for workers in (1, 2):
        print(f"[{shape}] LiteLLM, {workers} worker(s){label}…", flush=True)
        server, notes[f"LiteLLM {workers}w"] = start_litellm(shape, workers, workdir)
        peers[workers] = measure(server, workdir, ("chat",))
        if server is not None:
            peers[workers]["processes"] = server.memory.processes
            peers[workers]["peak_mib"] = server.stop()
        if shape == "production":
            drop_quietly(postgres("litellm_peer"))
    gateways = {}
    for workers in EMBEDDED_WORKERS if shape == "embedded" else PROD_WORKERS:
        print(f"[{shape}] gateway, {workers} worker(s){label}…", flush=True)
        server, env = start_gateway(shape, workers, workdir)
        results = gateways[workers] = measure(server, workdir, ("chat", "mcp"))
        results["processes"] = server.memory.processes
        if last:
            results["audit"] = audit(server, env)
            results["peak_mib"] = results["audit"]["peak_mib"]
        else:
            results["peak_mib"] = server.stop()
        if shape == "production":
            drop_quietly(env["DATABASE_URL"])
    return peers, gateways


def _combined(rounds: list[dict]) -> dict:
    """A server's rounds as one: each cell's median figures and summed counts, the
    highest memory, the last round's records check and calls (they go together)."""
    if len(rounds) == 1 or not rounds[0]:
        return rounds[-1]
    combined = dict(rounds[-1])
    for key, cell in rounds[0].items():
        if isinstance(key, tuple):
            combined[key] = {
                name: (sum if name in SUMMED else median)(r[key][name] for r in rounds)
                for name in cell
            }
    combined["peak_mib"] = max(r["peak_mib"] for r in rounds)
    combined["processes"] = max(r["processes"] for r in rounds)
    return combined


def _measure_direct(server: Server, workdir: Path) -> dict:
    print("[direct] the fake upstream alone…", flush=True)
    base = f"http://127.0.0.1:{server.port}"
    results = {}
    request = server.requests["chat"]
    for connections in CONCURRENCY:
        results[("chat", connections)] = harness.wrk(
            workdir, base + request["path"], request["body"], {}, connections, DURATION
        )
    for connections in STREAM_CONCURRENCY:
        results[("stream", connections)] = asyncio.run(
            _time_streams(server.port, server.requests["stream"], connections)
        )
    server.memory.stop()  # nothing reports its memory: no sampling during the rest
    return results


def _print_versions() -> None:
    litellm = subprocess.run(
        [str(VENV / "bin/python"), "-c",
         "import importlib.metadata as m; print(m.version('litellm'), m.version('uvicorn'))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    import django
    import uvicorn

    print(f"Machine: {harness.machine()}; load average {os.getloadavg()[0]:.2f}")
    print(f"LiteLLM {litellm[0]} (uvicorn {litellm[1]}, {VENV}); gateway at {commit} "
          f"(Django {django.get_version()}, uvicorn {uvicorn.__version__}); "
          f"streams of {CHUNKS} chunks")  # fmt: skip


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    main()
