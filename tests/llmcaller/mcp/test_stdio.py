"""The official MCP SDK client against `manage.py mcp_stdio`, a real subprocess."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mcp import Client, StdioServerParameters
from mcp_types import Implementation

from tests.llmcaller.mcp.conftest import Deployment
from tests.llmcaller.mcp.test_http import MODES, TOOLS
from tests.sandbox import BASE_DIR


def _client(deployment: Deployment, token: str, mode: str, name: str) -> Client:
    server = StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp_stdio", "--token", token],
        env=deployment.env,
        cwd=str(BASE_DIR),
    )
    return Client(server, mode=mode, client_info=Implementation(name=name, version="1.0"))


@pytest.mark.parametrize("mode", MODES)
async def test_an_mcp_client_over_stdio_lists_and_calls_every_tool(
    deployment: Deployment, mode: str
):
    async with _client(deployment, deployment.token, mode, f"stdio-{mode}") as client:
        version = client.protocol_version
        listed = {tool.name for tool in (await client.list_tools()).tools}
        chat = await client.call_tool("chat", {"messages": [{"role": "user", "content": "hi"}]})
        embed = await client.call_tool("embed", {"inputs": ["one"], "dimensions": 8})
        models = await client.call_tool("list_models", {"provider": "sandbox"})
        health = await client.call_tool("get_health", {})
        route = await client.call_tool("explain_route", {"prompt": "hi", "provider": "sandbox"})
        unknown = await client.call_tool("list_models", {"provider": "nobody"})

    assert version == MODES[mode]
    assert listed == TOOLS
    assert chat.structured_content["message"]["content"]
    assert len(embed.structured_content["vectors"][0]) == 8
    assert models.structured_content["provider"] == "sandbox"
    assert health.structured_content["components"]
    assert route.structured_content["strategy"] == "caller-override"
    # A v1 refusal arrives as a tool error with the v1 code.
    assert unknown.is_error
    assert "PERMANENT: Provider 'nobody' is not configured" in unknown.content[0].text
    assert deployment.records(f"stdio-{mode}")[0][:3] == ("mcp", "chat", "success")


@pytest.mark.parametrize("mode", MODES)
async def test_a_forbidden_tool_over_stdio_is_a_clean_tool_error(deployment: Deployment, mode):
    async with _client(deployment, deployment.no_embed_token, mode, "stdio-no-embed") as client:
        refused = await client.call_tool("embed", {"inputs": ["one"]})
        allowed = await client.call_tool("explain_route", {"prompt": "hi"})

    assert refused.is_error
    assert "FORBIDDEN: This client may not call embed." in refused.content[0].text
    assert not allowed.is_error


def test_the_command_refuses_a_wrong_token_at_once(deployment: Deployment):
    done = subprocess.run(
        [sys.executable, "manage.py", "mcp_stdio", "--token", "llmc_wrong"],
        env=deployment.env, cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode != 0
    assert "A valid client token is required." in done.stderr
    assert done.stdout == ""  # nothing a client could mistake for a message
