"""What the gateway benchmarks share: a scratch database, the fake upstream and the
gateway as child processes, a provider and a client token provisioned through the
management commands, and a worker's resident memory read from /proc.

`bench/gateway.py`, `bench/streams_scale.py` and `bench/peer.py` use it, and
wrk's figures come back parsed (`wrk`); run them from the repository's root
(`python bench/NAME.py`), which puts this directory on sys.path.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Engineers sharing one server give their runs databases of their own.
SCRATCH_DATABASE = os.environ.get("BENCH_SCRATCH_DATABASE", "llmcaller_bench")


def environment(workdir: Path, *, port: int, workers: str, **extra: str) -> dict[str, str]:
    """The gateway's environment: a throw-away SQLite file, or the scratch database
    `llmcaller_bench` (or BENCH_SCRATCH_DATABASE) on the PostgreSQL server
    DATABASE_URL names (REDIS_URL, if set, is passed on). `extra` adds or
    overrides variables."""
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
        # Every bench call comes from 127.0.0.1: the per-address limit (600 a
        # minute by default) would refuse most of them.
        "LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE": "0",
        "LLMCALLER_LOG_FILE": str(workdir / "gateway.log"),
        **extra,
    }


def create_database(url: str) -> None:
    """(Re)create the PostgreSQL database `url` names; nothing for SQLite."""
    if url.startswith("postgres"):
        name = _name(url)
        on_server(url, f"DROP DATABASE IF EXISTS {name}")
        on_server(url, f"CREATE DATABASE {name}")


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        if "django.db" in sys.modules:  # this process's own connections first
            from django.db import connections

            connections.close_all()
        on_server(url, f"DROP DATABASE IF EXISTS {_name(url)} WITH (FORCE)")


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def on_server(url: str, statement: str) -> None:
    """Run `statement` on the server's `postgres` database, outside a transaction."""
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


def start(command: list[str], env: dict | None = None, workdir: Path | None = None,
          log_name: str = "process.log", cwd: Path = ROOT) -> subprocess.Popen:  # fmt: skip
    log = open((workdir or Path(tempfile.gettempdir())) / log_name, "ab")
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)


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


def wait_for(url: str, seconds: float = 20.0, process: subprocess.Popen | None = None) -> None:
    """Until `url` answers at all; exits if it does not within `seconds` (or if
    `process` ends first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"The process serving {url} ended (exit {process.returncode}).")
        try:
            httpx.get(url, timeout=1.0, trust_env=False)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"Nothing answered at {url} within {seconds:g} s.")


def wrk(workdir: Path, url: str, body: dict, headers: dict, connections: int,
        duration: str) -> dict:  # fmt: skip
    """POST `body` to `url` on `connections` connections for `duration`: p50 and
    p99 in ms, calls/s, requests completed, errors (non-2xx and socket errors)."""
    script = workdir / "post.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(body))}",
             'wrk.headers["Content-Type"] = "application/json"']  # fmt: skip
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    failed = int(errors.group(1)) if errors else 0
    failed += sum(map(int, socket_errors.groups())) if socket_errors else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"p50": latency("50"), "p99": latency("99"), "rps": rps, "errors": failed,
            "requests": requests}  # fmt: skip


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown CPU")  # fmt: skip
    return f"{os.cpu_count()} cores, {cpu}; Python {sys.version.split()[0]}"


def print_machine(env: dict[str, str]) -> None:
    print(f"Machine: {machine()}")
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


class MemorySampler(threading.Thread):
    """The peak of the summed resident memory of a process and its descendants."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self.processes = pid, interval, 0, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            pids = _process_tree(self.pid)
            total = sum(_rss_bytes(pid) for pid in pids)
            if total > self.peak:
                self.peak, self.processes = total, len(pids)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak / 2**20


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError):
        return 0
