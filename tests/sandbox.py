"""Driving a real sandbox upstream from tests: start it, steer it, stop it.

`start_sandbox()` runs `manage.py sandbox_upstream --port 0` as a subprocess,
reads the port from its first stdout line and waits until it answers. The
returned `SandboxUpstream` steers it through its `/_sandbox/*` endpoints with
plain synchronous httpx, so both sync and async tests can call it.
"""

from __future__ import annotations

import re
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"listening on (http://\S+)")


class SandboxUpstream:
    """A running sandbox subprocess and the handles tests need on it."""

    def __init__(self, url: str, process: subprocess.Popen, log: Any) -> None:
        self.url = url
        self.process = process
        self.log = log  # the subprocess's stderr, kept for a failing test to read
        self._control = httpx.Client(base_url=url, timeout=5.0, trust_env=False)

    def set(self, **behaviour: Any) -> dict[str, Any]:
        """Change the named switches (latency_ms=200, malformed=True, …)."""
        response = self._control.post("/_sandbox/behaviour", json=behaviour)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Back to the start behaviour, request counts cleared."""
        self._control.post("/_sandbox/reset").raise_for_status()

    def requests(self) -> dict[str, int]:
        """How many API requests reached each path since the last reset."""
        response = self._control.get("/_sandbox/requests")
        response.raise_for_status()
        return response.json()["paths"]

    def stop(self) -> None:
        self._control.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.log.close()


def start_sandbox(*flags: str, timeout: float = 20.0) -> SandboxUpstream:
    log = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: nobody drains stderr
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox_upstream", "--port", "0", *flags],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        url = _read_url(process, timeout)
        sandbox = SandboxUpstream(url, process, log)
        _wait_until_answering(sandbox, timeout)
    except BaseException:
        process.kill()
        process.wait()
        process.stdout.close()
        log.seek(0)
        message = f"The sandbox did not start:\n{log.read()}"
        log.close()
        raise RuntimeError(message) from None
    return sandbox


def closed_port_url() -> str:
    """A loopback URL where nothing listens, for "upstream is down" tests."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Closed without listen(): connections are refused until someone else binds it.
    return f"http://127.0.0.1:{port}"


def _read_url(process: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError("no line on stdout")
    match = _LISTENING.search(process.stdout.readline())
    if not match:
        raise RuntimeError("the first stdout line does not say where it listens")
    return match.group(1)


def _wait_until_answering(sandbox: SandboxUpstream, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            sandbox.requests()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or sandbox.process.poll() is not None:
                raise
            time.sleep(0.05)
