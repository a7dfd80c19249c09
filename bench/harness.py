"""What the gateway benchmarks share: a scratch database, the fake upstream and the
gateway as child processes, a provider and a client token provisioned through the
management commands, and a worker's resident memory read from /proc.

`bench/gateway.py` and `bench/streams_scale.py` use it; run them from the
repository's root (`python bench/NAME.py`), which puts this directory on sys.path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DATABASE = "llmcaller_bench"


def environment(workdir: Path, *, port: int, workers: str, **extra: str) -> dict[str, str]:
    """The gateway's environment: a throw-away SQLite file, or the scratch database
    `llmcaller_bench` on the PostgreSQL server DATABASE_URL names (REDIS_URL, if
    set, is passed on). `extra` adds or overrides variables."""
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith("postgres"):
        database = urlunsplit(urlsplit(server)._replace(path=f"/{SCRATCH_DATABASE}"))
    else:
        database = f"sqlite:///{workdir / 'bench.sqlite3'}"
    return {
        **os.environ,
        "DATABASE_URL": database,
        "LLMCALLER_PORT": str(port),
        "LLMCALLER_WORKERS": workers,
        # Without Redis each worker counts limits alone: no client limits are benched.
        "LLMCALLER_ALLOW_UNSHARED_WORKERS": "true",
        # Every bench call comes from 127.0.0.1: the per-address limit (600 a
        # minute by default) would refuse most of them.
        "LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE": "0",
        "LLMCALLER_LOG_FILE": str(workdir / "gateway.log"),
        **extra,
    }


def create_database(url: str) -> None:
    if url.startswith("postgres"):
        _on_server(url, f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")
        _on_server(url, f"CREATE DATABASE {SCRATCH_DATABASE}")


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        from django.db import connections

        connections.close_all()
        _on_server(url, f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")


def _on_server(url: str, statement: str) -> None:
    import psycopg

    server = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(statement)


def provision(env: dict[str, str], upstream_port: int, client: str = "bench") -> str:
    """Migrate, add the fake upstream as provider `bench` (model `bench-model`) and
    issue a token for `client` (created, allowed chat and chatStream); returns it."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run(
        [*manage, "add_provider", "bench", "--kind", "openai_compatible",
         "--base-url", f"http://127.0.0.1:{upstream_port}", "--capabilities", "chat,chatStream"],
        env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    issued = subprocess.run(
        [*manage, "issue_token", client, "--create", "--methods", "chat,chatStream"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return issued.stdout.strip()


def django_setup(env: dict[str, str]) -> None:
    """Django in this process, on the bench's database (for the ORM and its counts)."""
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def start(command: list[str], env: dict | None = None, workdir: Path | None = None):
    log = open((workdir or Path(tempfile.gettempdir())) / "process.log", "ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def start_upstream(port: int, *switches: str, workdir: Path | None = None):
    """`bench/fake_upstream.py` on `port` (see its switches), once it answers."""
    process = start([sys.executable, "bench/fake_upstream.py", str(port), *switches], None, workdir)
    _started(process, f"http://127.0.0.1:{port}/v1/models")
    return process


def start_gateway(env: dict[str, str], workdir: Path):
    """`python -m llmcaller.serve` (as `make serve`), once /livez answers."""
    process = start([sys.executable, "-m", "llmcaller.serve"], env, workdir)
    _started(process, f"http://127.0.0.1:{env['LLMCALLER_PORT']}/livez")
    return process


def _started(process: subprocess.Popen, url: str) -> None:
    try:
        wait_for(url)
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise


def wait_for(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"Nothing answered at {url} within {seconds:g} s.")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def print_machine(env: dict[str, str]) -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown CPU")  # fmt: skip
    print(f"Machine: {os.cpu_count()} cores, {cpu}; Python {sys.version.split()[0]}")
    database = env["DATABASE_URL"].split(":", 1)[0]
    cache = "Redis" if env.get("REDIS_URL") else "local memory"
    print(f"Database: {database}; cache: {cache}")


def worker_pids(pid: int) -> list[int]:
    """The processes serving requests: uvicorn's workers when `pid` supervises
    several (not multiprocessing's resource tracker), else `pid` itself (one
    worker runs in the process `llmcaller.serve` started)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        commands = {int(c): Path(f"/proc/{c}/cmdline").read_bytes() for c in children}
    except OSError:
        return [pid]
    workers = sorted(c for c, command in commands.items() if b"resource_tracker" not in command)
    return workers or [pid]


def rss_mb(pid: int) -> float:
    """VmRSS of `pid` in MB (MiB), 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024
