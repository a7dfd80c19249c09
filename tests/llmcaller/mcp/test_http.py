"""The official MCP SDK client against `/mcp` on two gateway processes at once.

Every HTTP request the client makes goes to the other worker than the one
before (a round-robin load balancer), so a server that kept anything between
requests in one process would fail the 2025-11-25 handshake (initialize on one
worker, the tools on the other) as well as the stateless 2026-07-28 revision.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import Implementation

from tests.llmcaller.helpers import CHAT_MODEL, EMBED_MODEL
from tests.llmcaller.mcp.conftest import Deployment

TOOLS = {"chat", "embed", "list_models", "get_health", "explain_route"}
# The 2025-11-25 initialize handshake, and the SDK's default (server/discover, 2026-07-28).
MODES = {"legacy": "2025-11-25", "auto": "2026-07-28"}


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each request to the next of `urls` in turn, and counts where they went."""

    def __init__(self, urls: list[str]) -> None:
        self._targets = itertools.cycle([httpx2.URL(url) for url in urls])
        self._inner = httpx2.AsyncHTTPTransport()
        self.served: Counter[int] = Counter()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        target = next(self._targets)
        request.url = request.url.copy_with(port=target.port)
        request.headers["host"] = f"{target.host}:{target.port}"
        self.served[target.port] += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _client(
    workers: list[str], token: str, mode: str, name: str = "mcp-tests"
) -> tuple[Client, RoundRobin]:
    balancer = RoundRobin(workers)
    http = httpx2.AsyncClient(
        transport=balancer, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    transport = streamable_http_client(f"{workers[0]}/mcp", http_client=http)
    info = Implementation(name=name, version="1.0")
    return Client(transport, mode=mode, client_info=info), balancer


@pytest.mark.parametrize("mode", MODES)
async def test_an_mcp_client_lists_and_calls_every_tool_across_two_workers(
    deployment: Deployment, workers: list[str], mode: str
):
    client, balancer = _client(workers, deployment.token, mode)
    async with client:
        version = client.protocol_version
        listed = (await client.list_tools()).tools
        results = {
            "chat": await client.call_tool(
                "chat", {"messages": [{"role": "user", "content": "hello"}], "maxTokens": 16}
            ),
            "embed": await client.call_tool("embed", {"inputs": ["one", "two"]}),
            "list_models": await client.call_tool("list_models", {}),
            "get_health": await client.call_tool("get_health", {}),
            "explain_route": await client.call_tool("explain_route", {"prompt": "hello"}),
        }

    assert version == MODES[mode]
    assert {tool.name for tool in listed} == TOOLS
    assert all(tool.input_schema["type"] == "object" and tool.output_schema for tool in listed)
    assert not any(result.is_error for result in results.values())
    answers: dict[str, Any] = {name: r.structured_content for name, r in results.items()}
    assert answers["chat"]["message"]["role"] == "assistant"
    assert answers["chat"]["message"]["content"]
    assert answers["chat"]["providerInfo"]["name"] == "sandbox"
    assert answers["chat"]["providerInfo"]["routing"]["strategy"] == "capability-default"
    assert len(answers["embed"]["vectors"]) == 2
    assert answers["embed"]["providerInfo"]["model"] == EMBED_MODEL
    assert CHAT_MODEL in {model["id"] for model in answers["list_models"]["models"]}
    assert answers["get_health"]["status"] in ("ok", "degraded")
    # The preview names the route the same prompt took, without calling anyone.
    first_step = answers["explain_route"]["steps"][0]
    chat_model = answers["chat"]["providerInfo"]["model"]
    assert (first_step["provider"], first_step["model"]) == ("sandbox", chat_model)
    # Both workers answered: the load balancer really alternated.
    assert len(balancer.served) == 2 and min(balancer.served.values()) >= 3


@pytest.mark.parametrize("mode", MODES)
async def test_a_tool_outside_the_allow_list_is_a_clean_tool_error(
    deployment: Deployment, workers: list[str], mode: str
):
    client, _ = _client(workers, deployment.no_embed_token, mode)
    async with client:
        refused = await client.call_tool("embed", {"inputs": ["one"]})
        allowed = await client.call_tool("get_health", {})  # the session goes on

    assert refused.is_error
    assert "FORBIDDEN: This client may not call embed." in refused.content[0].text
    assert not allowed.is_error


async def test_every_tool_call_leaves_a_call_record_with_the_mcp_door(
    deployment: Deployment, workers: list[str]
):
    # The 2026-07-28 revision names the client tool in every request: its records say so.
    client, _ = _client(workers, deployment.no_embed_token, "auto", name="records-test")
    async with client:
        await client.list_tools()  # not a call: no record
        await client.call_tool("chat", {"messages": [{"role": "user", "content": "hi"}]})
        await client.call_tool("list_models", {})
        await client.call_tool("get_health", {})
        await client.call_tool("explain_route", {"prompt": "hi", "capability": "embed"})
        await client.call_tool("embed", {"inputs": ["one"]})

    client_name = "mcp-chat-only"
    assert deployment.records("records-test") == [
        ("mcp", "chat", "success", client_name),
        ("mcp", "models", "success", client_name),
        ("mcp", "getHealth", "success", client_name),
        ("mcp", "explainRoute", "success", client_name),
        ("mcp", "embed", "rejected_auth", client_name),  # a known client: it keeps its name
    ]


def test_a_request_without_a_valid_token_is_refused_before_the_sdk(workers: list[str]):
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"accept": "application/json, text/event-stream", "authorization": "Bearer nope"}
    for sent in ({}, headers):
        response = httpx.post(f"{workers[0]}/mcp", json=initialize, headers=sent, timeout=10)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["data"] == {"error": "UNAUTHENTICATED"}


def test_a_foreign_host_or_origin_is_refused_dns_rebinding_protection(deployment, workers):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    base = {
        "accept": "application/json, text/event-stream",
        "authorization": f"Bearer {deployment.token}",
        "mcp-protocol-version": "2025-11-25",
    }
    refused = {
        421: {**base, "host": "attacker.example"},
        403: {**base, "origin": "http://attacker.example"},
    }
    for status, headers in refused.items():
        response = httpx.post(f"{workers[0]}/mcp", json=body, headers=headers, timeout=10)
        assert response.status_code == status
    allowed = {**base, "origin": "http://localhost:4037"}
    assert httpx.post(f"{workers[0]}/mcp", json=body, headers=allowed).status_code == 200


def test_the_v1_paths_under_mcp_are_still_the_v1_api(deployment: Deployment, workers):
    headers = {"x-llm-caller-token": deployment.token}
    response = httpx.get(f"{workers[1]}/mcp/models", headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.json()["provider"] == "sandbox"
