"""The MCP tools in process: the SDK's client talks to the server object directly,
as the stdio door's caller, so limits and records can be set up and read here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from mcp import Client
from mcp_types import Implementation

from audit.models import CallRecord
from llmcaller.management.commands.mcp_stdio import stdio_caller
from llmcaller.mcp.server import build_server
from llmcaller.tokens import IssuedToken, issue_token, revoke_tokens
from providers.http import close_shared_client, open_shared_client
from tests.factories import ClientFactory
from tests.llmcaller.helpers import CHAT_MODEL


@pytest.fixture
async def upstream_pool() -> AsyncIterator[None]:
    await open_shared_client()
    yield
    await close_shared_client()


async def _issue(**client_fields: object) -> IssuedToken:
    return await sync_to_async(lambda: issue_token(client=ClientFactory(**client_fields)))()


def _client(token: str, mode: str = "auto") -> Client:
    server = build_server(stdio_caller=stdio_caller(token))
    return Client(server, mode=mode, client_info=Implementation(name="agent-x", version="1"))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_chat_tool_call_is_recorded_like_a_v1_call_with_the_mcp_door(
    provider, upstream_pool, mode
):
    token = (await _issue(tool_id="recorded")).raw
    async with _client(token, mode) as client:
        result = await client.call_tool("chat", {"messages": [{"role": "user", "content": "hi"}]})

    record = await CallRecord.objects.aget()
    assert not result.is_error
    assert (record.door, record.method, record.outcome) == ("mcp", "chat", "success")
    assert (record.client_name, record.caller_tool) == ("recorded", "agent-x")
    assert (record.provider, record.model, record.http_status) == ("sandbox", CHAT_MODEL, 200)
    assert record.trace_id == result.structured_content["traceId"]
    assert record.request_id  # the JSON-RPC id of the tools/call
    assert record.output_tokens == result.structured_content["usage"]["outputTokens"] > 0


@pytest.mark.usefixtures("clock")  # both calls in one minute's window
async def test_a_client_over_its_rate_limit_gets_a_rate_limit_error_with_the_wait(
    provider, upstream_pool
):
    token = (await _issue(requests_per_minute=1)).raw
    async with _client(token) as client:
        first = await client.call_tool("get_health", {})
        second = await client.call_tool("get_health", {})

    assert not first.is_error
    assert second.is_error
    assert "RATE_LIMIT:" in second.content[0].text and "30000 ms." in second.content[0].text
    outcomes = [r.outcome async for r in CallRecord.objects.order_by("id")]
    assert outcomes == ["success", "rejected_limit"]


async def test_explain_route_plans_without_calling_any_provider(provider, upstream, upstream_pool):
    token = (await _issue()).raw
    before = upstream.requests()
    async with _client(token) as client:
        chat = await client.call_tool("explain_route", {"prompt": "hi", "model": CHAT_MODEL})
        embed = await client.call_tool("explain_route", {"prompt": "hi", "capability": "embed"})

    assert upstream.requests() == before
    plan = chat.structured_content
    assert plan["strategy"] == "caller-override" and plan["steps"][0]["model"] == CHAT_MODEL
    assert plan["configHash"]
    assert embed.structured_content["capability"] == "embed"
    assert embed.structured_content["steps"][0]["model"] != CHAT_MODEL


async def test_a_revoked_token_stops_working_at_the_next_call(provider, upstream_pool):
    issued = await _issue()
    async with _client(issued.raw) as client:
        before = await client.call_tool("get_health", {})
        # As the admin and `revoke_token` do: the cached look-up goes with it.
        await sync_to_async(revoke_tokens)(tokens=[issued.token])
        after = await client.call_tool("get_health", {})

    assert not before.is_error
    assert after.is_error and "UNAUTHENTICATED:" in after.content[0].text
