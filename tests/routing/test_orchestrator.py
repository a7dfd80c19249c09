"""The executor over real loopback HTTP: two sandbox upstreams, one misbehaving.

`primary` is planned first (capability default, configuration order) and the
default chain falls back to `secondary`. The sandboxes count the requests they
receive, so each test asserts what actually reached which upstream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.test import override_settings

from providers.errors import UpstreamRateLimited, UpstreamTemporary
from providers.http import close_shared_client, open_shared_client
from providers.models import Capability, Model
from providers.types import ChatDelta, ChatMessage, ChatRequest, EmbedRequest
from routing.breaker import CircuitBreaker
from routing.errors import DeadlineExceeded, RouteMisconfigured, RouteRefused
from routing.models import FallbackStep, FaultKind
from routing.orchestrator import execute_call, execute_embed, stream_call
from routing.types import CachePolicy, CircuitState, RouteRequest, StreamCompleted
from tests.factories import ModelFactory, ProviderFactory
from tests.routing.factories import FallbackChainFactory, FallbackStepFactory, FaultRuleFactory
from tests.sandbox import SandboxUpstream

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "qwen2.5-7b-instruct"
CHAT = ChatRequest("", (ChatMessage("user", "hello there"),))
CHAT_PATH = "/v1/chat/completions"


@pytest.fixture(autouse=True)
def see_config_changes_at_once(settings) -> None:
    settings.ROUTING_SNAPSHOT_CHECK_SECONDS = 0  # tests edit the configuration mid-test


@pytest.fixture
async def pool() -> AsyncIterator[None]:
    cache.clear()  # circuit states from an earlier test must not leak in
    await open_shared_client()
    yield
    await close_shared_client()


@pytest.fixture
def chain(upstream, secondary_upstream, pool):
    """primary -> secondary for chat and chatStream; returns the two providers."""
    primary = ProviderFactory(key="primary", base_url=upstream.url, retry_attempts=0)
    secondary = ProviderFactory(key="secondary", base_url=secondary_upstream.url)
    for capability in (Capability.CHAT, Capability.CHAT_STREAM):
        steps = FallbackChainFactory(name=f"safety-{capability}", capability=capability,
                                     is_default=True)  # fmt: skip
        for position, provider in enumerate((primary, secondary)):
            model = Model.objects.filter(provider=provider).first()
            model = model or ModelFactory(provider=provider, model_id=MODEL)
            FallbackStepFactory(chain=steps, position=position, model=model)
    return primary, secondary


def route(capability: str = Capability.CHAT, **pins) -> RouteRequest:
    return RouteRequest(capability, messages=CHAT.messages, **pins)


def chat_requests(sandbox: SandboxUpstream) -> int:
    return sandbox.requests().get(CHAT_PATH, 0)


async def test_a_healthy_primary_answers_alone(chain, upstream, secondary_upstream):
    routed = await execute_call(request=route(), chat=CHAT)

    assert (routed.provider, routed.model) == ("primary", MODEL)
    assert routed.result.message.content == "Sandbox reply to: hello there"
    assert routed.routing.strategy == "capability-default"
    assert [a.outcome for a in routed.routing.attempts] == ["ok"]
    assert (chat_requests(upstream), chat_requests(secondary_upstream)) == (1, 0)


@pytest.mark.parametrize(
    ("switch", "error_class"),
    [({"error_status": 503}, "TEMPORARY"), ({"malformed": True}, "TEMPORARY")],
)
async def test_it_retries_then_falls_back_when_the_primary_fails(
    chain, upstream, secondary_upstream, switch, error_class
):
    primary, _ = chain
    primary.retry_attempts = 2
    await primary.asave()
    upstream.set(**switch)

    routed = await execute_call(request=route(), chat=CHAT)

    assert routed.provider == "secondary" and routed.routing.strategy == "fallback"
    outcomes = [(a.provider, a.outcome) for a in routed.routing.attempts]
    assert outcomes == [("primary", error_class)] * 3 + [("secondary", "ok")]
    assert routed.routing.fallback_reason == f"primary/{MODEL}: {error_class}"
    assert (chat_requests(upstream), chat_requests(secondary_upstream)) == (3, 1)


async def test_it_falls_back_when_the_primary_is_down(chain, down_url, secondary_upstream):
    primary, _ = chain
    primary.base_url = down_url
    await primary.asave()

    routed = await execute_call(request=route(), chat=CHAT)

    assert routed.provider == "secondary"
    assert routed.routing.attempts[0].outcome == "TEMPORARY"


@override_settings(ROUTING_RETRY_BACKOFF_SECONDS=0.01)
async def test_it_falls_back_when_the_primary_times_out(chain, upstream, secondary_upstream):
    primary, _ = chain
    primary.timeout_seconds, primary.retry_attempts = 0.3, 1
    await primary.asave()
    upstream.set(latency_ms=2000)

    routed = await execute_call(request=route(), chat=CHAT)

    assert [a.outcome for a in routed.routing.attempts] == ["TIMEOUT", "TIMEOUT", "ok"]
    assert routed.provider == "secondary"


async def test_a_rate_limit_moves_on_only_where_the_chain_step_says_so(chain, upstream):
    upstream.set(rate_limit_retry_after=3600)
    routed = await execute_call(request=route(), chat=CHAT)
    assert routed.provider == "secondary"
    assert chat_requests(upstream) == 1  # a 429 is not retried on the same provider

    step = await FallbackStep.objects.aget(chain__name="safety-chat", position=0)
    step.on_rate_limit = False
    await step.asave()
    cache.clear()
    with pytest.raises(UpstreamRateLimited) as raised:
        await execute_call(request=route(), chat=CHAT)
    assert raised.value.retry_after == 3600  # the gateway clamps it when it answers


async def test_when_every_step_fails_the_last_failure_is_raised(
    chain, upstream, secondary_upstream
):
    upstream.set(error_status=500)
    secondary_upstream.set(error_status=502)

    with pytest.raises(UpstreamTemporary, match="secondary answered HTTP 502"):
        await execute_call(request=route(), chat=CHAT)


@override_settings(ROUTING_CALL_DEADLINE_SECONDS=0.4)
async def test_the_deadline_stops_the_call_without_trying_further_steps(
    chain, upstream, secondary_upstream
):
    upstream.set(latency_ms=3000)

    with pytest.raises(DeadlineExceeded):
        await execute_call(request=route(), chat=CHAT)
    assert chat_requests(secondary_upstream) == 0


async def test_a_stream_falls_back_when_it_breaks_before_the_first_delta(
    chain, upstream, secondary_upstream
):
    upstream.set(break_stream_after=0)

    events = [e async for e in stream_call(request=route(Capability.CHAT_STREAM), chat=CHAT)]

    completed = events[-1]
    assert isinstance(completed, StreamCompleted) and completed.routed.provider == "secondary"
    text = "".join(e.content for e in events if isinstance(e, ChatDelta))
    assert text == completed.routed.result.message.content == "Sandbox reply to: hello there"


async def test_a_stream_never_switches_model_after_its_first_delta(
    chain, upstream, secondary_upstream
):
    upstream.set(break_stream_after=2)
    received = []

    with pytest.raises(UpstreamTemporary):
        async for event in stream_call(request=route(Capability.CHAT_STREAM), chat=CHAT):
            received.append(event)
    assert len(received) == 2 and all(isinstance(e, ChatDelta) for e in received)
    assert chat_requests(secondary_upstream) == 0


async def test_the_breaker_opens_skips_the_provider_and_half_opens_after_cooldown(
    chain, upstream, secondary_upstream
):
    now = [1000.0]
    breaker = CircuitBreaker(failures=2, cooldown=30, clock=lambda: now[0])
    upstream.set(error_status=503)
    for _ in range(2):
        await execute_call(request=route(), chat=CHAT, breaker=breaker)
    assert breaker.state("primary") is CircuitState.OPEN

    routed = await execute_call(request=route(), chat=CHAT, breaker=breaker)
    assert chat_requests(upstream) == 2  # nothing sent while the circuit is open
    skipped = [c for c in routed.routing.plan.considered if c.skipped]
    assert skipped[0].skipped == "provider's circuit is open"

    now[0] += 31
    upstream.set(error_status=None)
    routed = await execute_call(request=route(), chat=CHAT, breaker=breaker)
    assert routed.provider == "primary"  # the one trial call went through and closed it
    assert breaker.state("primary") is CircuitState.CLOSED


async def test_a_success_clears_failures_counted_by_other_workers(chain, upstream):
    breaker = CircuitBreaker(failures=2, cooldown=30)
    breaker.record_failure("primary")  # another worker's failure

    await execute_call(request=route(), chat=CHAT, breaker=breaker)
    breaker.record_failure("primary")

    assert breaker.state("primary") is CircuitState.CLOSED  # two failures, not consecutive


@override_settings(LLMCALLER_FAULTS_ENABLED=True)
async def test_an_injected_fault_is_applied_and_marked(chain, upstream, secondary_upstream):
    primary, _ = chain
    await sync_to_async(FaultRuleFactory)(
        name="gpu-outage", provider=primary, kind=FaultKind.TEMPORARY
    )

    routed = await execute_call(request=route(), chat=CHAT)

    assert routed.provider == "secondary"
    assert [(a.outcome, a.fault) for a in routed.routing.attempts] == [
        ("TEMPORARY", "gpu-outage"), ("ok", None),
    ]  # fmt: skip
    assert chat_requests(upstream) == 0  # the fault stood in for the upstream call


async def test_a_cached_answer_is_served_only_to_the_same_client(chain, upstream):
    request, chat = route(), ChatRequest("", CHAT.messages, temperature=0)
    policy = CachePolicy(client="tool-a", ttl_seconds=60)

    first = await execute_call(request=request, chat=chat, cache=policy)
    second = await execute_call(request=request, chat=chat, cache=policy)
    other = await execute_call(request=request, chat=chat, cache=CachePolicy("tool-b", 60))

    assert (first.routing.cache_hit, second.routing.cache_hit, other.routing.cache_hit) == (
        False, True, False,
    )  # fmt: skip
    assert second.result == first.result
    assert chat_requests(upstream) == 2


@pytest.fixture
def embedding_provider(upstream, pool) -> None:
    provider = ProviderFactory(key="lms", base_url=upstream.url)
    ModelFactory(provider=provider, model_id="text-embedding-nomic-embed-text-v1.5",
                 kind="embeddings", capabilities=[Capability.EMBED])  # fmt: skip
    ModelFactory(provider=provider, model_id=MODEL)


async def test_embeddings_are_routed_to_a_model_that_serves_them(embedding_provider):
    routed = await execute_embed(
        request=RouteRequest(Capability.EMBED, inputs=("a", "b")),
        embed=EmbedRequest("", ("a", "b"), dimensions=4),
    )

    assert routed.model == "text-embedding-nomic-embed-text-v1.5"
    assert [len(v) for v in routed.result.vectors] == [4, 4]


async def test_nothing_configured_and_a_bad_pin_are_told_apart(pool):
    with pytest.raises(RouteMisconfigured):
        await execute_call(request=route(), chat=CHAT)
    with pytest.raises(RouteRefused, match="nowhere/none"):
        await execute_call(request=route(provider="nowhere", model="none"), chat=CHAT)
