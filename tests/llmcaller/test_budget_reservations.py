"""Budgets under concurrency: each call reserves its worst case before it runs,
whichever door it comes through (v1, the OpenAI-compatible /v1, MCP)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from audit.models import CallRecord
from audit.types import CallOutcome
from llmcaller.models import Client
from tests.llmcaller.helpers import call_mcp_tool, chat_body

pytestmark = pytest.mark.usefixtures("clock")  # one budget day throughout

BUDGET = 1000
# 20 words of 6 characters: the sandbox counts 20 prompt tokens, the estimate 34;
# it answers 20 words when allowed 20. So a call spends 40 and reserves 54.
PROMPT = "alpha " * 20
MAX_TOKENS = 20
RESERVATION = 34 + MAX_TOKENS


async def _fire(
    gateway: str, token: str, calls: int, path: str = "/mcp/chat", body: dict | None = None
) -> list[int]:
    headers = {"x-llm-caller-token": token}
    body = body or chat_body(PROMPT.strip(), maxTokens=MAX_TOKENS)
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=60) as client:
        answers = await asyncio.gather(*(client.post(path, json=body) for _ in range(calls)))
    return [answer.status_code for answer in answers]


def _spent() -> int:
    ok = CallRecord.objects.filter(outcome=CallOutcome.SUCCESS)
    return sum(r.input_tokens + r.output_tokens for r in ok)


def test_concurrent_calls_never_overspend_by_more_than_one_reservation(gateway, token, provider):
    Client.objects.filter(tool_id="tests").update(daily_token_budget=BUDGET)

    statuses = asyncio.run(_fire(gateway, token, 60))  # 60 × 40 tokens would be 2,400

    assert statuses.count(429) > 0 and set(statuses) == {200, 429}
    assert _spent() <= BUDGET + RESERVATION


def test_reservations_are_released_so_the_budget_can_be_spent_in_full(api, provider):
    Client.objects.filter(tool_id="tests").update(daily_token_budget=200)

    statuses = [
        api.post("/mcp/chat", json=chat_body(PROMPT.strip(), maxTokens=MAX_TOKENS)).status_code
        for _ in range(6)
    ]

    # 40 a call: the fifth reaches 200 (its reservation admitted at 160), the sixth is refused.
    assert statuses == [200, 200, 200, 200, 200, 429]


def test_a_budgeted_chat_without_max_tokens_is_capped_at_the_default(api, provider, settings):
    settings.LLMCALLER_DEFAULT_MAX_TOKENS = 3
    Client.objects.filter(tool_id="tests").update(daily_token_budget=10_000)

    answer = api.post("/mcp/chat", json=chat_body("say a lot of words please")).json()

    assert answer["usage"]["outputTokens"] == 3
    assert answer["message"]["content"] == "Sandbox reply to:"


def test_max_tokens_has_an_upper_bound(api, provider, settings):
    refused = api.post(
        "/mcp/chat", json=chat_body(maxTokens=settings.LLMCALLER_MAX_TOKENS_LIMIT + 1)
    )

    assert refused.status_code == 400
    assert refused.json()["message"].startswith("maxTokens:")


# The other doors reserve through the same `reserve_call`.

OPENAI_CHAT = {
    "model": "auto", "messages": [{"role": "user", "content": PROMPT.strip()}],
    "max_tokens": MAX_TOKENS,
}  # fmt: skip
# Embedding the prompt: the sandbox counts 20 tokens, the estimate (the reservation) 30.
EMBED_RESERVATION = 30


def test_concurrent_openai_chats_never_overspend_by_more_than_one_reservation(
    gateway, token, provider
):
    Client.objects.filter(tool_id="tests").update(daily_token_budget=BUDGET)

    statuses = asyncio.run(_fire(gateway, token, 60, "/v1/chat/completions", OPENAI_CHAT))

    assert statuses.count(429) > 0 and set(statuses) == {200, 429}
    assert _spent() <= BUDGET + RESERVATION


def test_concurrent_openai_embeddings_never_overspend_by_more_than_one_reservation(
    gateway, token, provider, upstream
):
    upstream.set(latency_ms=50)  # every call in flight at once
    Client.objects.filter(tool_id="tests").update(daily_token_budget=200)
    body = {"model": "auto", "input": PROMPT.strip()}

    statuses = asyncio.run(_fire(gateway, token, 30, "/v1/embeddings", body))  # 600 tokens

    assert statuses.count(429) > 0 and set(statuses) == {200, 429}
    assert _spent() <= 200 + EMBED_RESERVATION


WORDY = [{"role": "user", "content": "say a lot of words please"}]
# An OpenAI path, a body for it without any max tokens, and its answer's output tokens.
CHAT_PATHS = [
    ("/v1/chat/completions", {"model": "auto", "messages": WORDY}, "completion_tokens"),
    ("/v1/responses", {"model": "auto", "input": WORDY}, "output_tokens"),
]


@pytest.mark.parametrize(("path", "body", "counted"), CHAT_PATHS)
def test_a_budgeted_openai_chat_without_max_tokens_is_capped_at_the_default(
    api, provider, settings, path, body, counted
):
    settings.LLMCALLER_DEFAULT_MAX_TOKENS = 3
    Client.objects.filter(tool_id="tests").update(daily_token_budget=10_000)

    answer = api.post(path, json=body)

    assert answer.status_code == 200
    assert answer.json()["usage"][counted] == 3  # the cap went upstream as the call's bound


def test_openai_chats_release_their_reservations_so_the_budget_is_spent_in_full(api, provider):
    Client.objects.filter(tool_id="tests").update(daily_token_budget=200)

    statuses = [api.post("/v1/chat/completions", json=OPENAI_CHAT).status_code for _ in range(6)]

    assert statuses == [200, 200, 200, 200, 200, 429]


def test_a_budgeted_mcp_chat_without_max_tokens_is_capped_at_the_default(
    gateway, token, provider, settings
):
    settings.LLMCALLER_DEFAULT_MAX_TOKENS = 3
    Client.objects.filter(tool_id="tests").update(daily_token_budget=10_000)
    result = asyncio.run(call_mcp_tool(gateway, token, "chat", {"messages": WORDY}))

    assert not result.is_error
    assert result.structured_content["usage"]["outputTokens"] == 3


def test_concurrent_mcp_embeds_never_overspend_by_more_than_one_reservation(
    gateway, token, provider, upstream
):
    upstream.set(latency_ms=50)
    Client.objects.filter(tool_id="tests").update(daily_token_budget=200)

    async def fire() -> list:
        embed = {"inputs": [PROMPT.strip()]}
        return await asyncio.gather(
            *(call_mcp_tool(gateway, token, "embed", embed) for _ in range(30))
        )

    results = asyncio.run(fire())

    refused = [r for r in results if r.is_error]
    assert refused and all("RATE_LIMIT: " in r.content[0].text for r in refused)
    assert _spent() <= 200 + EMBED_RESERVATION


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (*CHAT_PATHS[0][:2], "max_tokens"),
        (*CHAT_PATHS[0][:2], "max_completion_tokens"),
        (*CHAT_PATHS[1][:2], "max_output_tokens"),
    ],
)
def test_openai_max_tokens_have_the_v1_upper_bound(api, provider, settings, path, body, field):
    over = {**body, field: settings.LLMCALLER_MAX_TOKENS_LIMIT + 1}

    refused = api.post(path, json=over)

    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "bad_request",
        field,
    )
    assert error["message"].startswith(f"{field}: Ensure this value is less than or equal to")


def test_mcp_max_tokens_has_the_v1_upper_bound(gateway, token, provider, settings):
    limit = settings.LLMCALLER_MAX_TOKENS_LIMIT
    messages = [{"role": "user", "content": "hi"}]

    result = asyncio.run(
        call_mcp_tool(gateway, token, "chat", {"messages": messages, "maxTokens": limit + 1})
    )

    assert result.is_error
    assert "maxTokens" in result.content[0].text
    assert f"less than or equal to {limit}" in result.content[0].text
