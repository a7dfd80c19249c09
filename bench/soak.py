"""`make soak`: mixed traffic against 2 gateway workers for a long while; figures, no asserts.

It starts two sandbox upstreams (one healthy; one that answers 503 to every
call, the upstream faults) and the gateway (`llmcaller.serve`, SOAK_WORKERS
workers, default 2) on a throw-away SQLite database and, with more than one
worker, Redis (SOAK_REDIS_URL, default database 14 on 127.0.0.1; empty: the
workers share through the machine cache instead), provisions
both providers and a client token through the management commands, then sends SOAK_SECONDS
(default 600) of traffic at SOAK_CONCURRENCY (default 16): chats, streams,
embeds, invalid bodies (400), unknown tokens (401) and calls pinned to the
failing provider (503). Every minute it prints each worker's resident memory
and the calls made so far. After a graceful shutdown it prints the calls made
against what the gateway kept of them, per kind, and what `verify_audit` says:
a call record for each call of the known client, and for the unknown tokens,
which are refused before authentication, the per-minute counts
(`audit.RefusalCount`) that stand in for records.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from harness import rss_mb, worker_pids

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
WORKERS = os.environ.get("SOAK_WORKERS", "2")
# Workers share limits, circuits and caches through Redis, as a deployment of
# several hosts does (one machine's workers could use the machine cache); its own
# database, as `make bench` uses 14.
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/14")
CONCURRENCY = int(os.environ.get("SOAK_CONCURRENCY", "16"))
GATEWAY_PORT = int(os.environ.get("SOAK_GATEWAY_PORT", "18137"))
UPSTREAM_PORTS = (18101, 18102)
CHAT_MODEL = "qwen2.5-7b-instruct"
EMBED_MODEL = "text-embedding-nomic-embed-text-v1.5"
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"
# kind: (share of the traffic, path, pinned provider)
MIX = {
    "chat": (40, "/mcp/chat", "healthy"),
    "stream": (25, "/mcp/chatStream", "healthy"),
    "embed": (15, "/mcp/embed", "healthy"),
    "fault": (10, "/mcp/chat", "faulty"),
    "invalid": (5, "/mcp/chat", "healthy"),
    "unauthenticated": (5, "/mcp/chat", "healthy"),
}

# Kinds whose records are found by outcome, not by requestId.
BY_OUTCOME = {"invalid": "invalid_request"}
# Kinds refused before authentication: counted (RefusalCount), not recorded.
COUNTED = {"unauthenticated": "token "}  # the reasons' common start


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="llmcaller-soak-"))
    env = _environment(workdir)
    processes = [_start([sys.executable, "manage.py", "sandbox_upstream", "--port", str(port)],
                        env, workdir) for port in UPSTREAM_PORTS]  # fmt: skip
    try:
        for port in UPSTREAM_PORTS:
            _wait_for(f"http://127.0.0.1:{port}/v1/models")
        token = _provision(env)
        httpx.post(f"http://127.0.0.1:{UPSTREAM_PORTS[1]}/_sandbox/behaviour",
                   json={"error_status": 503}).raise_for_status()  # fmt: skip
        gateway = _start([sys.executable, "-m", "llmcaller.serve"], env, workdir)
        processes.append(gateway)
        _wait_for(f"{GATEWAY}/livez")
        shared = f"Redis {REDIS_URL}" if REDIS_URL else "the machine cache (no Redis)"
        redis = shared if WORKERS != "1" else "no Redis"
        print(f"Soak: {SECONDS:.0f} s, {WORKERS} workers, concurrency {CONCURRENCY}, SQLite, "
              f"{redis}, {os.cpu_count()} cores (shared: other work may run too)")  # fmt: skip
        made = asyncio.run(_traffic(token, gateway.pid))
        gateway.send_signal(signal.SIGTERM)  # graceful: in-flight calls finish and record
        gateway.wait(timeout=60)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    _report(env, made)
    shutil.rmtree(workdir, ignore_errors=True)


def _environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'soak.sqlite3'}",
        "REDIS_URL": REDIS_URL if WORKERS != "1" else "",
        "LLMCALLER_PORT": str(GATEWAY_PORT),
        "LLMCALLER_WORKERS": WORKERS,
        "LLMCALLER_LOG_FILE": str(workdir / "gateway.log"),
        "ROUTING_RETRY_BACKOFF_SECONDS": "0.01",
        # One load client stands in for many callers: its address must not meet
        # the per-address flood guard (2 workers × 600 a minute is below its rate).
        "LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE": "0",
    }


def _provision(env: dict[str, str]) -> str:
    manage = [sys.executable, "manage.py"]
    quiet = {"env": env, "cwd": ROOT, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([*manage, "migrate", "--noinput"], **quiet)
    for key, port in zip(("healthy", "faulty"), UPSTREAM_PORTS, strict=True):
        subprocess.run([*manage, "add_provider", key, "--kind", "lmstudio",
                        "--base-url", f"http://127.0.0.1:{port}"], **quiet)  # fmt: skip
    issued = subprocess.run(
        [*manage, "issue_token", "soak", "--create", "--methods", "chat,chatStream,embed"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return issued.stdout.strip()


def _request(kind: str, number: int) -> tuple[str, dict]:
    _share, path, provider = MIX[kind]
    body: dict = {"requestId": f"soak-{kind}-{number}", "callerTool": "soak", "provider": provider}
    if kind == "embed":
        body.update(model=EMBED_MODEL, inputs=[f"text {number}", "another text"])
    else:
        body.update(model=CHAT_MODEL, messages=[{"role": "user", "content": f"hello {number}"}])
    if kind == "invalid":
        body["temperature"] = 7  # out of range: 400, still a call record
    return path, body


async def _traffic(token: str, server_pid: int) -> Counter[str]:
    made: Counter[str] = Counter()
    kinds, weights = list(MIX), [share for share, _path, _provider in MIX.values()]
    rng = random.Random(14)
    deadline = time.monotonic() + SECONDS
    headers = {"x-llm-caller-token": token}
    async with httpx.AsyncClient(base_url=GATEWAY, headers=headers, timeout=60,
                                 trust_env=False) as client:  # fmt: skip

        async def worker() -> None:
            while time.monotonic() < deadline:
                kind = rng.choices(kinds, weights)[0]
                made[kind] += 1
                path, body = _request(kind, made[kind])
                extra = {"x-llm-caller-token": "not-a-token"} if kind == "unauthenticated" else {}
                try:
                    if kind == "stream":
                        async with client.stream("POST", path, json=body) as response:
                            async for _chunk in response.aiter_bytes():
                                pass
                    else:
                        await client.post(path, json=body, headers=extra)
                except httpx.HTTPError as exc:  # counted and shown: the soak goes on
                    made["transport error"] += 1
                    print(f"  transport error on {kind}: {exc!r}", flush=True)

        reporter = asyncio.create_task(_report_memory(server_pid, made))
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        reporter.cancel()
    _print_memory(server_pid, made, SECONDS, label="end")
    return made


async def _report_memory(server_pid: int, made: Counter[str]) -> None:
    started = time.monotonic()
    _print_memory(server_pid, made, 0)
    while True:
        await asyncio.sleep(60)
        _print_memory(server_pid, made, time.monotonic() - started)


def _print_memory(server_pid: int, made: Counter[str], elapsed: float, label: str = "") -> None:
    workers = worker_pids(server_pid)
    memory = ", ".join(f"worker {pid}: {rss_mb(pid):.1f} MB" for pid in workers)
    when = label or f"{elapsed / 60:.0f} min"
    calls = sum(n for kind, n in made.items() if kind in MIX)
    print(f"  {when:>6}  calls {calls:>7}  {memory}", flush=True)


def _report(env: dict[str, str], made: Counter[str]) -> None:
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from audit.models import CallRecord

    refusals = _refusals()
    print("\nCalls made against what was kept of them, per kind:")
    for kind in MIX:
        if kind in COUNTED:
            kept = sum(n for reason, n in refusals.items() if reason.startswith(COUNTED[kind]))
            what = "counted"
        elif kind in BY_OUTCOME:  # an invalid body's requestId may be what is invalid
            kept, what = CallRecord.objects.filter(outcome=BY_OUTCOME[kind]).count(), "stored"
        else:
            kept = CallRecord.objects.filter(request_id__startswith=f"soak-{kind}-").count()
            what = "stored"
        print(f"  {kind:>15}: made {made[kind]:>7}, {what} {kept:>7}")
    records, counted = CallRecord.objects.count(), sum(refusals.values())
    calls = sum(n for k, n in made.items() if k in MIX)
    verdict = "equal" if records + counted == calls else "NOT EQUAL"
    print(f"  {'all':>15}: made {calls:>7}, {records} records + {counted} counted refusals "
          f"= {records + counted}: {verdict} "
          f"({made['transport error']} of the calls made met a transport error)")  # fmt: skip
    print(f"  refusals before authentication by reason: {dict(refusals) or 'none'}")
    _verify(env)


def _refusals() -> Counter[str]:
    from django.db.models import Sum

    from audit.models import RefusalCount

    rows = RefusalCount.objects.values("reason").annotate(n=Sum("count"))
    return Counter({row["reason"]: row["n"] for row in rows})


def _verify(env: dict[str, str]) -> None:
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit", "--skip-checks"],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    print(f"\nverify_audit (exit {verify.returncode}):\n{verify.stdout.strip()}")
    if verify.stderr.strip():
        print(verify.stderr.strip())


def _start(command: list[str], env: dict, workdir: Path) -> subprocess.Popen:
    log = open(workdir / "process.log", "ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def _wait_for(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit(f"Nothing answered at {url} within {seconds:g} s.")


if __name__ == "__main__":
    main()
