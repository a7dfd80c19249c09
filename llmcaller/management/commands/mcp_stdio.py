"""`manage.py mcp_stdio --token TOKEN`: the gateway's MCP tools over stdio.

An MCP client starts this command and speaks JSON-RPC over its stdin and stdout
(logs go to stderr). Every tool call is made as the client holding TOKEN, with
its allow-list, limits and call records (`door="mcp"`), exactly as over HTTP;
the token is checked once at start, so a wrong one fails at once, and again at
each call, so a revoked one stops working.
"""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import HttpRequest

from audit.services import flush_pending
from llmcaller.auth import identify
from llmcaller.errors import ApiError
from llmcaller.mcp.server import build_server
from providers.http import close_shared_client, open_shared_client

# The command runs on the gateway's host: its caller is local.
STDIO_ADDRESS = "127.0.0.1"


def stdio_caller(token: str) -> HttpRequest:
    """The request every tool call of this session is authenticated as."""
    request = HttpRequest()
    request.META = {"REMOTE_ADDR": STDIO_ADDRESS, "HTTP_X_LLM_CALLER_TOKEN": token}
    return request


class Command(BaseCommand):
    help = "Serve the gateway's MCP tools over stdio, as the client holding --token."
    # An MCP client starts this often and waits for it; `manage.py check` and the
    # server's own start-up run the checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--token", required=True, help="A client token of the gateway.")

    def handle(self, *args, token: str, **options) -> None:
        caller = stdio_caller(token)
        try:
            asyncio.run(_serve(caller))
        except ApiError as exc:
            raise CommandError(exc.message) from None
        except KeyboardInterrupt:
            pass


async def _serve(caller: HttpRequest) -> None:
    await identify(caller)  # refuse a wrong token before the client waits on us
    await open_shared_client()
    try:
        await build_server(stdio_caller=caller).run_stdio_async()
    finally:
        await flush_pending()  # call records still queued
        await close_shared_client()
