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
Prints; asserts nothing.

LiteLLM comes from its own virtualenv (BENCH_PEER_VENV; `make bench-peer`
creates it). Variables: BENCH_DURATION (wrk, per cell, default 10s),
BENCH_STREAM_SECONDS (default 5), BENCH_PEER_EMBEDDED_WORKERS and
BENCH_PEER_PROD_WORKERS (gateway worker counts, default "1,2"), BENCH_PEER_SHAPES (default
"embedded,production"), BENCH_PEER_AUDIT_CALLS (default 2000).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
import httpx
import lean_client
from peer_report import CONCURRENCY, STREAM_CONCURRENCY, Plan, print_verdicts, ratios, report_shape

ROOT = harness.ROOT
VENV = Path(os.environ.get("BENCH_PEER_VENV", Path.home() / ".cache/llmcaller-bench/litellm-venv"))
UPSTREAM_PORT = int(os.environ.get("BENCH_PEER_UPSTREAM_PORT", "18301"))
LITELLM_PORT = int(os.environ.get("BENCH_PEER_LITELLM_PORT", "18302"))
GATEWAY_PORT = int(os.environ.get("BENCH_PEER_GATEWAY_PORT", "18337"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
STREAM_SECONDS = float(os.environ.get("BENCH_STREAM_SECONDS", "5"))
SEQUENTIAL_STREAMS = int(os.environ.get("BENCH_PEER_SEQUENTIAL_STREAMS", "200"))
AUDIT_CALLS = int(os.environ.get("BENCH_PEER_AUDIT_CALLS", "2000"))
EMBEDDED_WORKERS = [int(n) for n in os.environ.get("BENCH_PEER_EMBEDDED_WORKERS", "1,2").split(",")]
PROD_WORKERS = [int(n) for n in os.environ.get("BENCH_PEER_PROD_WORKERS", "1,2").split(",")]
SHAPES = os.environ.get("BENCH_PEER_SHAPES", "embedded,production").split(",")
CHUNKS = 20
SERVER_DATABASE = os.environ.get("BENCH_PEER_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_PEER_REDIS", "redis://127.0.0.1:6379/13")
MESSAGES = [{"role": "user", "content": "Say something short."}]
PLAN = Plan(DURATION, CHUNKS, SEQUENTIAL_STREAMS, STREAM_SECONDS)

# ---------------------------------------------------------------------------
# Servers.


class Server:
    """A started server: its process, what to send it, its memory sampler."""

    def __init__(self, name: str, workers: int, process: subprocess.Popen, requests: dict) -> None:
        self.name, self.workers, self.process, self.requests = name, workers, process, requests
        self.memory = harness.MemorySampler(process.pid)
        self.memory.start()

    def stop(self, graceful: bool = True) -> float:
        peak = self.memory.stop()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return peak


def _chat(path: str, body: dict, headers: dict) -> dict:
    return {"path": path, "body": body, "headers": headers}


def _openai_requests(model: str, headers: dict) -> dict:
    plain = {"model": model, "messages": MESSAGES}
    streamed = {**plain, "stream": True}
    return {"chat": _chat("/v1/chat/completions", plain, headers),
            "stream": _chat("/v1/chat/completions", streamed, headers)}  # fmt: skip


def start_litellm(shape: str, workers: int, workdir: Path) -> tuple[Server | None, str]:
    """LiteLLM in `shape` with `workers` workers; returns the server (None if it
    did not start) and a note of what it runs with."""
    master = "sk-bench-" + secrets.token_hex(16)
    config = {
        "model_list": [{"model_name": "bench-model", "litellm_params": {
            "model": "openai/bench-model", "api_base": f"http://127.0.0.1:{UPSTREAM_PORT}/v1",
            "api_key": "sk-fake-upstream"}}],
        "litellm_settings": {"telemetry": False, "set_verbose": False, "callbacks": [],
                             "success_callback": [], "failure_callback": []},
        "general_settings": {"master_key": master},
    }  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        # Nothing leaves the machine: the cost map from the package, no telemetry.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
        "LITELLM_LOG": "ERROR", "NO_PROXY": "*", "HTTP_PROXY": "", "HTTPS_PROXY": "",
        "DISABLE_SCHEMA_UPDATE": "false",
    })  # fmt: skip
    note = "no database, master key"
    database = None
    if shape == "production":
        database = _postgres("litellm_peer").replace("postgres://", "postgresql://")
        harness.create_database(database)
        env["DATABASE_URL"] = database
        config["general_settings"]["database_url"] = "os.environ/DATABASE_URL"
        config["router_settings"] = {"redis_url": REDIS}
    path = workdir / f"litellm-{shape}-{workers}.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    log = f"litellm-{shape}-{workers}.log"
    command = [str(VENV / "bin/litellm"), "--config", str(path), "--host", "127.0.0.1",
               "--port", str(LITELLM_PORT), "--num_workers", str(workers)]  # fmt: skip
    _port_free(LITELLM_PORT)
    process = harness.start(command, env, workdir, log, cwd=workdir)
    if not _ready(f"http://127.0.0.1:{LITELLM_PORT}/health/liveliness", process, 240):
        failure = _failure(workdir / log)
        if database is None:
            print(f"  LiteLLM did not start: {failure}")
            return None, failure
        print(f"  LiteLLM with its database did not start: {failure}")
        print("  Falling back: LiteLLM without a database (master key, Redis for its router).")
        harness.drop_database(database)
        del env["DATABASE_URL"], config["general_settings"]["database_url"]
        path.write_text(json.dumps(config))
        process = harness.start(command, env, workdir, log, cwd=workdir)
        if not _ready(f"http://127.0.0.1:{LITELLM_PORT}/health/liveliness", process, 240):
            return None, _failure(workdir / log)
        note = f"FALLBACK, no database ({failure}); master key, Redis"
        key = master
    elif database:
        key = _virtual_key(master)
        note = "own PostgreSQL database, virtual key, spend logs on, Redis"
    else:
        key = master
    headers = {"Authorization": f"Bearer {key}"}
    return Server("LiteLLM", workers, process, _openai_requests("bench-model", headers)), note


def _virtual_key(master: str) -> str:
    answer = httpx.post(
        f"http://127.0.0.1:{LITELLM_PORT}/key/generate",
        headers={"Authorization": f"Bearer {master}"},
        json={"models": ["bench-model"]},
        trust_env=False,
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["key"]


def _port_free(port: int) -> None:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"Something already listens on 127.0.0.1:{port}: stop it first.")


def _ready(url: str, process: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=1.0, trust_env=False).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    if process.poll() is None:
        process.kill()
    process.wait()
    return False


def _failure(log: Path) -> str:
    """The telling line of a failed start's log."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    for line in lines:
        if "binaries.prisma.sh" in line or "Error" in line:
            return re.sub(r"\x1b\[[0-9;]*m", "", line)[:300]
    return (lines[-1] if lines else "no output")[:300]


def start_gateway(shape: str, workers: int, workdir: Path) -> tuple[Server, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        "DATABASE_URL": f"sqlite:///{workdir / f'gateway-{workers}.sqlite3'}",
        "LLMCALLER_PORT": str(GATEWAY_PORT),
        "LLMCALLER_WORKERS": str(workers),
        "LLMCALLER_LOG_FILE": str(workdir / "gateway-calls.log"),
        # Every call comes from 127.0.0.1: the per-address limit (600 a minute,
        # counted before the token is read) would refuse the load itself.
        "LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE": "0",
    })  # fmt: skip
    if shape == "production":
        env["DATABASE_URL"] = _postgres("llmcaller_peer")
        env["REDIS_URL"] = REDIS
        subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=True, capture_output=True)
    harness.create_database(env["DATABASE_URL"])
    token = harness.provision(env, UPSTREAM_PORT)
    _port_free(GATEWAY_PORT)
    process = harness.start([sys.executable, "-m", "llmcaller.serve"], env, workdir,
                            f"gateway-{shape}-{workers}.log")  # fmt: skip
    if not _ready(f"http://127.0.0.1:{GATEWAY_PORT}/livez", process, 60):
        log = workdir / f"gateway-{shape}-{workers}.log"
        sys.exit(f"The gateway did not start: {_failure(log)}")
    _wait_workers(workers)
    requests = _openai_requests("bench/bench-model", {"Authorization": f"Bearer {token}"})
    v1 = {"requestId": "peer", "callerTool": "bench", "provider": "bench", "model": "bench-model",
          "messages": MESSAGES}  # fmt: skip
    requests["mcp"] = _chat("/mcp/chat", v1, {"x-llm-caller-token": token})
    requests["mcp_stream"] = _chat("/mcp/chatStream", v1, {"x-llm-caller-token": token})
    return Server("gateway", workers, process, requests), env


def _wait_workers(workers: int) -> None:
    time.sleep(1.0 + 0.5 * workers)  # uvicorn's workers come up one after another


# ---------------------------------------------------------------------------
# Measuring.


def measure(server: Server | None, workdir: Path, kinds: tuple[str, ...]) -> dict:
    """wrk cells per request kind, streams, memory. `kinds` name the plain calls
    in server.requests; the stream kinds follow ("chat" → "stream", "mcp" →
    "mcp_stream")."""
    if server is None:
        return {}
    base = f"http://127.0.0.1:{_port(server)}"
    results: dict = {"calls": 0}
    for name, request in server.requests.items():  # each answers before it is measured
        answer = asyncio.run(lean_client.one(_port(server), request))
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
            cell = asyncio.run(_time_streams(_port(server), server.requests[stream], connections))
            results[(stream, connections)] = cell
            results["calls"] += cell["calls"]
    return results


def _time_streams(port: int, request: dict, concurrency: int):
    return lean_client.time_streams(
        port, request, concurrency, seconds=STREAM_SECONDS, sequential=SEQUENTIAL_STREAMS,
        chunks=CHUNKS,
    )  # fmt: skip


def _port(server: Server) -> int:
    return {"LiteLLM": LITELLM_PORT, "gateway": GATEWAY_PORT}[server.name]


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
        _port_free(port)
    workdir = Path(tempfile.mkdtemp(prefix="llmcaller-peer-"))
    upstream = harness.start([sys.executable, "bench/fake_upstream.py", str(UPSTREAM_PORT),
                              str(CHUNKS)], workdir=workdir, log_name="upstream.log")  # fmt: skip
    try:
        harness.wait_for(f"http://127.0.0.1:{UPSTREAM_PORT}/v1/models")
        _print_versions()
        direct_server = Server("direct", 0, upstream, _openai_requests("bench-model", {}))
        direct = _measure_direct(direct_server, workdir)
        rows, gateways_by_shape = [], {}
        for shape in SHAPES:
            if shape == "production" and not _services_up():
                print("\nPostgreSQL or Redis is not running on 127.0.0.1: no production shape")
                continue
            peers, notes = {}, {}
            for workers in (1, 2):
                print(f"[{shape}] LiteLLM, {workers} worker(s)…", flush=True)
                server, note = start_litellm(shape, workers, workdir)
                notes[f"LiteLLM {workers}w"] = note
                peers[workers] = measure(server, workdir, ("chat",))
                if server is not None:
                    peers[workers]["processes"] = server.memory.processes
                    peers[workers]["peak_mib"] = server.stop()
                if shape == "production":
                    _drop_quietly(_postgres("litellm_peer"))
            gateways = {}
            for workers in EMBEDDED_WORKERS if shape == "embedded" else PROD_WORKERS:
                print(f"[{shape}] gateway, {workers} worker(s)…", flush=True)
                server, env = start_gateway(shape, workers, workdir)
                gateways[workers] = measure(server, workdir, ("chat", "mcp"))
                gateways[workers]["processes"] = server.memory.processes
                gateways[workers]["audit"] = audit(server, env)
                if shape == "production":
                    _drop_quietly(env["DATABASE_URL"])
            notes["gateway"] = (
                f"SQLite, no Redis ({EMBEDDED_WORKERS} workers; 1: memory, more: the machine cache)"
                if shape == "embedded"
                else f"PostgreSQL (DATABASE_URL), Redis (REDIS_URL), {PROD_WORKERS} workers"
            )
            report_shape(shape, direct, peers, gateways, notes, PLAN)
            rows += ratios(shape, direct, peers, gateways)
            gateways_by_shape[shape] = gateways
        print_verdicts(rows, gateways_by_shape)
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


def _measure_direct(server: Server, workdir: Path) -> dict:
    print("[direct] the fake upstream alone…", flush=True)
    base = f"http://127.0.0.1:{UPSTREAM_PORT}"
    results = {}
    request = server.requests["chat"]
    for connections in CONCURRENCY:
        results[("chat", connections)] = harness.wrk(
            workdir, base + request["path"], request["body"], {}, connections, DURATION
        )
    for connections in STREAM_CONCURRENCY:
        results[("stream", connections)] = asyncio.run(
            _time_streams(UPSTREAM_PORT, server.requests["stream"], connections)
        )
    server.memory.stop()
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


def _postgres(name: str) -> str:
    """Database `name` on the server SERVER_DATABASE is on."""
    return SERVER_DATABASE.rsplit("/", 1)[0] + "/" + name


def _services_up() -> bool:
    ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0
    redis = subprocess.run(["redis-cli", "-u", REDIS, "ping"], capture_output=True, text=True)
    return ready and redis.stdout.strip() == "PONG"


def _drop_quietly(url: str) -> None:
    try:
        harness.drop_database(url)
    except Exception as exc:  # a figure run should not die on cleaning up
        print(f"  (could not drop {url}: {exc})")


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    main()
