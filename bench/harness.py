"""What the benchmarks that serve the gateway share: processes, wrk, provisioning.

`bench/gateway.py` and `bench/peer.py` start the lean fake upstream and the
gateway as subprocesses, provision a provider and a client token through the
management commands, on a throw-away SQLite file or a scratch PostgreSQL
database created and dropped, and drive HTTP with wrk.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent


def database_url(workdir: Path, scratch: str) -> str:
    """The scratch database `scratch` on the PostgreSQL server DATABASE_URL names,
    or else a SQLite file in `workdir`."""
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith("postgres"):
        return urlunsplit(urlsplit(server)._replace(path=f"/{scratch}"))
    return f"sqlite:///{workdir / 'bench.sqlite3'}"


def create_database(url: str) -> None:
    """(Re)create the PostgreSQL database `url` names; nothing for SQLite."""
    if url.startswith("postgres"):
        name = urlsplit(url).path.lstrip("/")
        on_server(url, f"DROP DATABASE IF EXISTS {name}")
        on_server(url, f"CREATE DATABASE {name}")


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        on_server(url, f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")


def on_server(url: str, statement: str) -> None:
    """Run `statement` on the server's `postgres` database, outside a transaction."""
    import psycopg

    server = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(statement)


def provision(env: dict[str, str], upstream_port: int, key: str = "bench") -> str:
    """Migrate, add the fake upstream as provider `key` and issue a client token
    (client `bench`, chat and chatStream); returns the token."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run(
        [*manage, "add_provider", key, "--kind", "openai_compatible",
         "--base-url", f"http://127.0.0.1:{upstream_port}", "--capabilities", "chat,chatStream"],
        env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    issued = subprocess.run(
        [*manage, "issue_token", "bench", "--create", "--methods", "chat,chatStream"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return issued.stdout.strip()


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


def start(command: list[str], env: dict | None = None, workdir: Path | None = None,
          log_name: str = "process.log", cwd: Path = ROOT) -> subprocess.Popen:  # fmt: skip
    log = open((workdir or Path(tempfile.gettempdir())) / log_name, "ab")
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)


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


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown CPU")  # fmt: skip
    return f"{os.cpu_count()} cores, {cpu}; Python {sys.version.split()[0]}"
