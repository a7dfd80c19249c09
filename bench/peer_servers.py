"""The servers `make bench-peer` measures, started in a shape: the fake upstream,
the LiteLLM proxy and the gateway (`bench/peer.py` measures them;
`bench/peer_profile.py` profiles the gateway).

Each start gives a `Server`: its process, its port, the requests to send it and
a sampler of its memory. LiteLLM comes from its own virtualenv (BENCH_PEER_VENV).
In the production shape both use the local PostgreSQL (BENCH_PEER_POSTGRES) and
Redis (BENCH_PEER_REDIS); LiteLLM falls back to running without its database
when its Prisma engines cannot be fetched, and says so.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import harness
import httpx

VENV = Path(os.environ.get("BENCH_PEER_VENV", Path.home() / ".cache/llmcaller-bench/litellm-venv"))
UPSTREAM_PORT = int(os.environ.get("BENCH_PEER_UPSTREAM_PORT", "18301"))
LITELLM_PORT = int(os.environ.get("BENCH_PEER_LITELLM_PORT", "18302"))
GATEWAY_PORT = int(os.environ.get("BENCH_PEER_GATEWAY_PORT", "18337"))
SERVER_DATABASE = os.environ.get("BENCH_PEER_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_PEER_REDIS", "redis://127.0.0.1:6379/13")
CHUNKS = 20  # content deltas in each of the fake upstream's streams
MESSAGES = [{"role": "user", "content": "Say something short."}]


class Server:
    """A started server: its process, its port, what to send it, its memory sampler."""

    def __init__(self, name: str, port: int, workers: int, process: subprocess.Popen,
                 requests: dict) -> None:  # fmt: skip
        self.name, self.port, self.workers = name, port, workers
        self.process, self.requests = process, requests
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


def openai_requests(model: str, headers: dict) -> dict:
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
        database = postgres("litellm_peer").replace("postgres://", "postgresql://")
        harness.create_database(database)
        env["DATABASE_URL"] = database
        config["general_settings"]["database_url"] = "os.environ/DATABASE_URL"
        config["router_settings"] = {"redis_url": REDIS}
    path = workdir / f"litellm-{shape}-{workers}.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    log = f"litellm-{shape}-{workers}.log"
    command = [str(VENV / "bin/litellm"), "--config", str(path), "--host", "127.0.0.1",
               "--port", str(LITELLM_PORT), "--num_workers", str(workers)]  # fmt: skip
    port_free(LITELLM_PORT)
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
    requests = openai_requests("bench-model", {"Authorization": f"Bearer {key}"})
    return Server("LiteLLM", LITELLM_PORT, workers, process, requests), note


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


def port_free(port: int) -> None:
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
        env["DATABASE_URL"] = postgres("llmcaller_peer")
        env["REDIS_URL"] = REDIS
        subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=True, capture_output=True)
    harness.create_database(env["DATABASE_URL"])
    token = harness.provision(env, UPSTREAM_PORT)
    port_free(GATEWAY_PORT)
    process = harness.start([sys.executable, "-m", "llmcaller.serve"], env, workdir,
                            f"gateway-{shape}-{workers}.log")  # fmt: skip
    if not _ready(f"http://127.0.0.1:{GATEWAY_PORT}/livez", process, 60):
        log = workdir / f"gateway-{shape}-{workers}.log"
        sys.exit(f"The gateway did not start: {_failure(log)}")
    _wait_workers(workers)
    requests = openai_requests("bench/bench-model", {"Authorization": f"Bearer {token}"})
    v1 = {"requestId": "peer", "callerTool": "bench", "provider": "bench", "model": "bench-model",
          "messages": MESSAGES}  # fmt: skip
    requests["mcp"] = _chat("/mcp/chat", v1, {"x-llm-caller-token": token})
    requests["mcp_stream"] = _chat("/mcp/chatStream", v1, {"x-llm-caller-token": token})
    return Server("gateway", GATEWAY_PORT, workers, process, requests), env


def _wait_workers(workers: int) -> None:
    time.sleep(1.0 + 0.5 * workers)  # uvicorn's workers come up one after another


def start_upstream(workdir: Path) -> Server:
    """The fast fake upstream, answering once this returns; its requests are the
    plain OpenAI ones, without a key."""
    command = [sys.executable, "bench/fake_upstream.py", str(UPSTREAM_PORT), str(CHUNKS)]
    process = harness.start(command, workdir=workdir, log_name="upstream.log")
    try:
        harness.wait_for(f"http://127.0.0.1:{UPSTREAM_PORT}/v1/models")
    except BaseException:
        process.terminate()
        raise
    return Server("direct", UPSTREAM_PORT, 0, process, openai_requests("bench-model", {}))


def postgres(name: str) -> str:
    """Database `name` on the server SERVER_DATABASE is on."""
    return SERVER_DATABASE.rsplit("/", 1)[0] + "/" + name


def services_up() -> bool:
    ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0
    redis = subprocess.run(["redis-cli", "-u", REDIS, "ping"], capture_output=True, text=True)
    return ready and redis.stdout.strip() == "PONG"


def drop_quietly(url: str) -> None:
    try:
        harness.drop_database(url)
    except Exception as exc:  # a figure run should not die on cleaning up
        print(f"  (could not drop {url}: {exc})")
