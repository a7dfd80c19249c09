"""A token look-up kept in the worker's memo (LLMCALLER_MEMO_SECONDS): a
revocation applies at once in the process that made it, within the memo's
seconds in any other. The memo's clock is injected; nothing sleeps."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.utils import timezone

from llmcaller.auth import _lookup
from llmcaller.models import Client, ClientToken
from llmcaller.tokens import CACHE_KEY, issue_token, revoke_tokens
from routing import memo

pytestmark = pytest.mark.django_db(transaction=True)


class FakeClock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, settings) -> FakeClock:
    settings.LLMCALLER_MEMO_SECONDS = 1.0
    fake = FakeClock()
    monkeypatch.setattr(memo.tokens, "clock", fake)
    return fake


@pytest.fixture
def issued():
    client = Client.objects.create(tool_id="memo-tool", name="Memo", allowed_methods=["chat"])
    return issue_token(client=client, actor="test")


async def test_a_revocation_in_this_process_applies_at_once(clock, issued):
    assert (await _lookup(issued.raw)).refusal() is None

    await sync_to_async(revoke_tokens)(tokens=[issued.token], actor="test")

    assert (await _lookup(issued.raw)).refusal() == "revoked"  # the clock has not moved


async def test_a_revocation_in_another_process_applies_within_the_memo_seconds(clock, issued):
    assert (await _lookup(issued.raw)).refusal() is None

    # Another worker or host revokes: the row and the shared cache, not this memo.
    token = issued.token
    await ClientToken.objects.filter(pk=token.pk).aupdate(revoked_at=timezone.now())
    caches["tokens"].delete(CACHE_KEY.format(token.token_hash))
    clock.now += 1.0

    assert (await _lookup(issued.raw)).refusal() == "revoked"
