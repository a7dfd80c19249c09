"""Budgets under concurrency: each call reserves its worst case before it runs."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from audit.models import CallRecord
from audit.types import CallOutcome
from llmcaller.models import Client
from tests.llmcaller.helpers import chat_body

pytestmark = pytest.mark.usefixtures("clock")  # one budget day throughout

BUDGET = 1000
# 20 words of 6 characters: the sandbox counts 20 prompt tokens, the estimate 34;
# it answers 20 words when allowed 20. So a call spends 40 and reserves 54.
PROMPT = "alpha " * 20
MAX_TOKENS = 20
RESERVATION = 34 + MAX_TOKENS


async def _fire(gateway: str, token: str, calls: int) -> list[int]:
    headers = {"x-llm-caller-token": token}
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=60) as client:
        body = chat_body(PROMPT.strip(), maxTokens=MAX_TOKENS)
        answers = await asyncio.gather(*(client.post("/mcp/chat", json=body) for _ in range(calls)))
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
