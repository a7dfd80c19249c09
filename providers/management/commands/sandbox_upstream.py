"""`manage.py sandbox_upstream`: run the LM Studio-compatible sandbox under uvicorn.

The first line on stdout says where it listens, as
"Sandbox upstream listening on http://HOST:PORT"; with `--port 0` the system
picks a free port and that line is the only place to learn it, which is what
the test fixture reads. The flags set the sandbox's start behaviour.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.sandbox import SandboxApp, SandboxBehaviour


class Command(BaseCommand):
    help = "Run the LM Studio-compatible sandbox upstream (for tests, demos and rehearsals)."
    # The sandbox needs no database and must start even where the gateway's
    # own configuration would fail a check.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1234, help="0 picks a free port")
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--error-status", type=int, default=None)
        parser.add_argument("--rate-limit-retry-after", type=int, default=None)
        parser.add_argument("--break-stream-after", type=int, default=None)
        parser.add_argument("--malformed", action="store_true")
        parser.add_argument("--legacy", action="store_true", help="no /api/v1 nor /api/v0")
        parser.add_argument("--v0-only", action="store_true", help="no /api/v1")
        parser.add_argument("--require-api-key", default="")
        parser.add_argument(
            "--omit-stream-usage", action="store_true", help="streams send no usage chunk"
        )
        # Longer than the gateway's pool keeps an idle connection (aiohttp, 15 s),
        # so that a call is never sent onto a connection the sandbox is closing.
        # Many real servers close sooner (uvicorn's and Node's default is 5 s).
        parser.add_argument(
            "--keep-alive-timeout", type=int, default=75,
            help="seconds an idle keep-alive connection stays open",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        behaviour = _behaviour(options)
        if options["keep_alive_timeout"] < 1:
            raise CommandError("Invalid --keep-alive-timeout: it must be 1 second or more.")
        sock = _bind(options["host"], options["port"])
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(f"Sandbox upstream listening on http://{shown}:{port}")
        self.stdout.flush()  # a pipe is block-buffered; the reader waits for this line
        config = uvicorn.Config(
            SandboxApp(behaviour),
            loop="uvloop",
            http="httptools",
            access_log=False,  # it costs a fifth of the throughput
            proxy_headers=False,  # loopback only: no proxy to trust, one wrapper less
            server_header=False,
            timeout_keep_alive=options["keep_alive_timeout"],
            log_level="warning",
        )
        uvicorn.Server(config).run(sockets=[sock])


def _behaviour(options: dict[str, Any]) -> SandboxBehaviour:
    try:
        return SandboxBehaviour(
            latency_ms=options["latency_ms"],
            error_status=options["error_status"],
            rate_limit_retry_after=options["rate_limit_retry_after"],
            break_stream_after=options["break_stream_after"],
            malformed=options["malformed"],
            legacy=options["legacy"],
            v0_only=options["v0_only"],
            require_api_key=options["require_api_key"],
            omit_stream_usage=options["omit_stream_usage"],
        )
    except ValueError as exc:
        # The dataclass names fields; the operator typed flags.
        flag = "--" + str(exc).split(" ", 1)[0].replace("_", "-")
        raise CommandError(f"Invalid {flag}: {exc}") from None


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound here so that port 0 is resolved before we print it."""
    if not 0 <= port <= 65535:
        raise CommandError(f"Invalid --port: {port} is not between 0 and 65535.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    sock.listen(2048)
    return sock
