"""The views write answers with plain functions; the output serializers are the
published schema. Each function must write, byte for byte, what its serializer
would, for routes that leave every optional field empty and for routes that
fill them all."""

from __future__ import annotations

import json

import pytest

from llmcaller.api.chat import ChatOutput, CompletionOutput, chat_json, completion_json
from llmcaller.api.embed import EmbedOutput, embed_json
from llmcaller.api.outputs import Answer, RoutingOutput, routing_json
from providers.models import Capability
from providers.types import ChatMessage, ChatResult, EmbedResult, Usage
from routing.models import Task
from routing.types import (
    Attempt,
    Candidate,
    RoutedChat,
    RoutedEmbed,
    RoutePlan,
    RouteStep,
    RoutingInfo,
    Strategy,
)


def _fallback() -> RoutingInfo:
    considered = (
        Candidate("lmstudio", "coder", Strategy.TASK_PREFERENCE, 90),
        Candidate("ollama", "llama", Strategy.CAPABILITY_DEFAULT, None, "provider disabled"),
        Candidate("openai", "gpt-4o-mini", Strategy.FALLBACK, 40),
    )
    steps = (RouteStep("lmstudio", "coder", Strategy.TASK_PREFERENCE, 90),)
    plan = RoutePlan(
        Capability.CHAT, Strategy.TASK_PREFERENCE, steps, considered, task=Task.CODING,
        task_source="classified", task_reasons=("code words: function",), chain="safety",
        config_hash="ab" * 32,
    )  # fmt: skip
    attempts = (
        Attempt("lmstudio", "coder", "skipped: circuit open", 0),  # an integer latency
        Attempt("openai", "gpt-4o-mini", "TEMPORARY", 12.5, "rehearsal"),
        Attempt("openai", "gpt-4o-mini", "ok", 230.07),
    )
    return RoutingInfo(plan, "fallback", attempts, "openai/gpt-4o-mini: TEMPORARY")


def _cache_hit() -> RoutingInfo:
    considered = (Candidate("lmstudio", "coder", Strategy.CALLER_OVERRIDE, None),)
    steps = (RouteStep("lmstudio", "coder", Strategy.CALLER_OVERRIDE, None),)
    plan = RoutePlan("chat", Strategy.CALLER_OVERRIDE, steps, considered, task="general",
                     task_source="given", config_hash="cd" * 32)  # fmt: skip
    return RoutingInfo(plan, "caller-override", cache_hit=True)


def _embedding() -> RoutingInfo:
    considered = (Candidate("ollama", "nomic", Strategy.CAPABILITY_DEFAULT, 10),)
    steps = (RouteStep("ollama", "nomic", Strategy.CAPABILITY_DEFAULT, 10),)
    plan = RoutePlan("embed", Strategy.CAPABILITY_DEFAULT, steps, considered)
    return RoutingInfo(plan, "capability-default", (Attempt("ollama", "nomic", "ok", 3.1),))


ROUTES = pytest.mark.parametrize(
    "routing", [_fallback(), _cache_hit(), _embedding()], ids=["fallback", "cache hit", "embed"]
)


def _same(drf: object, ours: object) -> None:
    assert json.dumps(ours) == json.dumps(drf)  # as JsonResponse encodes
    assert json.dumps(ours, ensure_ascii=False, separators=(",", ":")) == json.dumps(
        drf, ensure_ascii=False, separators=(",", ":")
    )  # as an SSE frame encodes


@ROUTES
def test_the_rendered_routing_is_what_routing_output_writes(routing):
    _same(RoutingOutput(routing).data, routing_json(routing))
    # The call record stores it as it is: the same plain values, lists and all.
    assert routing_json(routing) == RoutingOutput(routing).data


@ROUTES
def test_a_chat_answer_and_its_completion_event_are_what_their_serializers_write(routing):
    message = ChatMessage("assistant", 'Ünïcode, "quotes" and\nnewlines')
    routed = RoutedChat(ChatResult("coder", message, Usage(12, 34)), "lmstudio", "coder", routing)

    _same(
        ChatOutput(Answer("req-1", "trace-1", routed)).data,
        chat_json("req-1", "trace-1", routed, routing_json(routing)),
    )
    _same(CompletionOutput(routed).data, completion_json(routed, routing_json(routing)))


@pytest.mark.parametrize("usage", [Usage(12, 34), Usage(12, 34, estimated=True)])
def test_usage_says_estimated_only_when_it_was(usage):
    message = ChatMessage("assistant", "hi")
    routed = RoutedChat(ChatResult("coder", message, usage), "lmstudio", "coder", _cache_hit())

    ours = completion_json(routed, routing_json(_cache_hit()))
    _same(CompletionOutput(routed).data, ours)
    assert ("estimated" in ours["usage"]) is usage.estimated


@ROUTES
def test_an_embed_answer_is_what_embed_output_writes(routing):
    vectors = ((0.25, -1.0, 3.0e-8), (0.0, 1.5, 2.0))
    routed = RoutedEmbed(EmbedResult("nomic", vectors, Usage(5)), "ollama", "nomic", routing)

    _same(
        EmbedOutput(Answer("req-1", "trace-1", routed)).data,
        embed_json("req-1", "trace-1", routed, routing_json(routing)),
    )
