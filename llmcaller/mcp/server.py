"""The gateway's MCP server, on the official SDK's `MCPServer`.

A new server is built for each run (an ASGI lifespan, a stdio session): the
SDK's session manager runs once per instance. The tools are registered with
their annotations (all but `chat` and `embed` only read), so an MCP client can
tell which calls cost tokens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from django.http import HttpRequest
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from llmcaller.mcp import tools

NAME = "llm-caller"
INSTRUCTIONS = (
    "The LLM Caller gateway: chat and embed through the models its operators configured "
    "(routing, fallbacks and limits included), list those models, check their health, and "
    "explain the route a prompt would take without calling anyone."
)
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_CALLS_A_MODEL = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)
TOOLS = (
    (tools.chat, "Chat", _CALLS_A_MODEL),
    (tools.embed, "Embed texts", _CALLS_A_MODEL),
    (tools.list_models, "List models", _READ_ONLY),
    (tools.get_health, "Gateway health", _READ_ONLY),
    (tools.explain_route, "Explain a route", _READ_ONLY),
)


def build_server(*, stdio_caller: HttpRequest | None = None) -> MCPServer:
    """The server with the gateway's tools; `stdio_caller` is who calls over stdio."""

    @asynccontextmanager
    async def lifespan(server: MCPServer) -> AsyncIterator[tools.DoorState]:
        yield tools.DoorState(stdio_caller)

    server = MCPServer(
        NAME,
        title="LLM Caller",
        instructions=INSTRUCTIONS,
        version="1.0.0",
        lifespan=lifespan,
        log_level="WARNING",
    )
    for function, title, hints in TOOLS:
        server.add_tool(function, title=title, annotations=hints, structured_output=True)
    return server
