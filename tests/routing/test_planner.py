"""plan_call: every rule, tie-break and filter, as a table over one small configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from routing.planner import estimate_tokens, plan_call
from routing.types import CircuitState, RouteRequest
from tests.routing.support import (
    CHAT,
    EMBED,
    base_config,
    compile_config,
    model,
    score,
    user,
)

Config = dict[str, Any]


def _set(kind: str, key: str, **fields: Any) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        for row in config[kind]:
            if key in (row.get("key"), f"{row.get('provider')}/{row.get('model_id')}"):
                row.update(fields)

    return edit


def _no_default(config: Config) -> None:
    for row in config["capability_scores"]:
        row["is_default"] = False


def _no_chain(config: Config) -> None:
    config["fallback_chains"] = []


def _tied_scores(config: Config) -> None:
    _no_default(config)
    for row in config["capability_scores"]:
        row["score"] = 50  # cloud/gpt comes first in configuration order


@dataclass
class Case:
    request: dict[str, Any]
    steps: list[str]
    strategy: str | None
    edits: list[Callable[[Config], None]] = field(default_factory=list)
    health: dict[str, str] = field(default_factory=dict)
    loaded: dict[tuple[str, str], tuple[bool, int | None, bool]] = field(default_factory=dict)
    state: dict[str, CircuitState] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


LONG = "word " * 8000  # about 10,000 tokens: more than 8,192, less than 128,000

CASES = {
    "pinned model wins, and the pin limits the fallbacks": Case(
        {"provider": "cloud", "model": "gpt"}, ["cloud/gpt"], "caller-override",
        skipped={"local/llama": "does not match the caller's pin"},
    ),
    "pinned provider takes its best model": Case(
        {"provider": "local"}, ["local/llama"], "caller-override",
    ),
    "pinned model id is found on any provider": Case(
        {"model": "qwen-coder"}, ["local/qwen-coder"], "caller-override",
    ),
    "a pin that matches nothing plans nothing": Case(
        {"provider": "cloud", "model": "nope"}, [], None,
        skipped={"cloud/nope": "not in the configuration"},
    ),
    "a pinned model that does not serve the capability is skipped": Case(
        {"capability": EMBED, "provider": "local", "model": "llama"}, [], None,
        skipped={"local/llama": "does not serve embed"},
    ),
    "the given task's preference wins": Case(
        {"task": "coding"}, ["local/qwen-coder", "cloud/gpt", "local/llama"], "task-preference",
    ),
    "the classified task's preference wins": Case(
        {"messages": user("Why does this fail?\n```py\nx = 1/0\n```")},
        ["local/qwen-coder", "cloud/gpt", "local/llama"], "task-preference",
    ),
    "a task without preferences falls to the capability default": Case(
        {"task": "creative"}, ["local/llama", "cloud/gpt"], "capability-default",
    ),
    "the default flag beats a higher score": Case(
        {}, ["local/llama", "cloud/gpt"], "capability-default",
    ),
    "without a default the best score wins": Case(
        {}, ["cloud/gpt", "local/llama"], "capability-default", edits=[_no_default],
    ),
    "tied scores go in configuration order": Case(
        {}, ["cloud/gpt"], "capability-default", edits=[_tied_scores, _no_chain],
    ),
    "embeddings take the embed default and no chain": Case(
        {"capability": EMBED, "inputs": ("hello",)}, ["local/nomic-embed"], "capability-default",
    ),
    "a disabled provider is skipped": Case(
        {}, ["cloud/gpt"], "capability-default", edits=[_set("providers", "local", enabled=False)],
        skipped={"local/llama": "provider disabled"},
    ),
    "a disabled model is skipped": Case(
        {}, ["cloud/gpt"], "capability-default",
        edits=[_set("models", "local/llama", enabled=False)],
        skipped={"local/llama": "model disabled"},
    ),
    "a provider whose last probe failed is skipped": Case(
        {}, ["cloud/gpt"], "capability-default", health={"local": "failed"},
        skipped={"local/llama": "last probe failed"},
    ),
    "a degraded provider is still used": Case(
        {}, ["local/llama", "cloud/gpt"], "capability-default", health={"local": "degraded"},
    ),
    "an open circuit is skipped": Case(
        {}, ["cloud/gpt"], "capability-default", state={"local": CircuitState.OPEN},
        skipped={"local/llama": "circuit is open"},
    ),
    "a half-open circuit may take its trial call": Case(
        {}, ["local/llama", "cloud/gpt"], "capability-default",
        state={"local": CircuitState.HALF_OPEN},
    ),
    "a model discovery no longer finds is skipped": Case(
        {}, ["cloud/gpt"], "capability-default", loaded={("local", "llama"): (True, None, False)},
        skipped={"local/llama": "no longer found"},
    ),
    "a prompt longer than the maximum context is skipped": Case(
        {"task": "coding", "messages": user(LONG)}, ["cloud/gpt"], "task-preference",
        skipped={"local/qwen-coder": "its context holds 8192", "local/llama": "context holds"},
    ),
    "the loaded context counts, not the maximum": Case(
        {"messages": user("x" * 20000), "max_tokens": 100}, ["cloud/gpt"], "capability-default",
        edits=[_set("models", "local/llama", max_context_length=32768)],
        loaded={("local", "llama"): (True, 4096, True)},
        skipped={"local/llama": "needs about 5100 tokens; its context holds 4096"},
    ),
    "maxTokens counts toward the context": Case(
        {"max_tokens": 9000}, ["cloud/gpt"], "capability-default",
        skipped={"local/llama": "needs about 9002 tokens"}  # 2 for "hello",
    ),
    "an unloaded model is skipped when its provider does not load on demand": Case(
        {}, ["cloud/gpt"], "capability-default", loaded={("local", "llama"): (False, None, True)},
        skipped={"local/llama": "not loaded"},
    ),
    "an unloaded model is used when its provider loads on demand": Case(
        {}, ["local/llama", "cloud/gpt"], "capability-default",
        edits=[_set("providers", "local", load_on_demand=True)],
        loaded={("local", "llama"): (False, None, True)},
    ),
    "a cloud model has no load state to hold it back": Case(
        {"provider": "cloud"}, ["cloud/gpt"], "caller-override",
        loaded={("cloud", "gpt"): (False, None, True)},
    ),
}  # fmt: skip


def _skipped_refs(plan) -> dict[str, str]:
    return {f"{c.provider}/{c.model}": c.skipped for c in plan.considered if c.skipped}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan_call(case: Case):
    config = base_config()
    for edit in case.edits:
        edit(config)
    snapshot = compile_config(config, health=case.health, runtime_models=case.loaded)
    request = RouteRequest(**({"capability": CHAT, "messages": user("hello")} | case.request))

    plan = plan_call(request, snapshot, case.state)

    assert [f"{s.provider}/{s.model}" for s in plan.steps] == case.steps
    assert plan.strategy == case.strategy
    skipped = _skipped_refs(plan)
    for ref, reason in case.skipped.items():
        assert reason in skipped.get(ref, ""), (ref, skipped)


def test_the_plan_names_the_task_and_why_it_was_classified():
    snapshot = compile_config()
    request = RouteRequest(CHAT, user("Write a poem about the sea"))

    plan = plan_call(request, snapshot, {})

    assert (plan.task, plan.task_source) == ("creative", "classified")
    assert plan.task_reasons == ("keyword 'poem'",)
    assert plan.chain == "chat-safety"
    assert plan.config_hash == snapshot.config_hash


def test_fallback_steps_carry_the_chain_steps_error_classes():
    config = base_config()
    config["fallback_chains"][0]["steps"][0]["on_rate_limit"] = False

    plan = plan_call(RouteRequest(CHAT, user("hi")), compile_config(config), {})

    primary, fallback = plan.steps
    assert (fallback.strategy, fallback.move_on) == ("fallback", {"TEMPORARY", "TIMEOUT"})
    # The primary is also a step of the chain, so it moves on as that step says.
    assert (primary.model, primary.move_on) == ("llama", {"TEMPORARY", "RATE_LIMIT", "TIMEOUT"})


def test_a_primary_outside_the_chain_moves_on_for_every_retryable_class():
    config = base_config()
    config["fallback_chains"][0]["steps"] = config["fallback_chains"][0]["steps"][:1]

    plan = plan_call(RouteRequest(CHAT, user("hi")), compile_config(config), {})

    assert plan.primary.move_on == {"TEMPORARY", "RATE_LIMIT", "TIMEOUT", "AUTH"}


def test_a_model_on_demand_is_marked_to_be_loaded():
    config = base_config()
    config["providers"][1]["load_on_demand"] = True
    snapshot = compile_config(config, runtime_models={("local", "llama"): (False, None, True)})

    plan = plan_call(RouteRequest(CHAT, user("hi")), snapshot, {})

    assert plan.primary.needs_load is True


def test_the_same_inputs_give_the_same_plan():
    snapshot = compile_config()
    request = RouteRequest(CHAT, user("Compare these metrics"), max_tokens=10)
    state = {"cloud": CircuitState.OPEN}

    assert plan_call(request, snapshot, state) == plan_call(request, snapshot, state)


def test_a_scored_model_without_the_capability_is_listed_with_its_reason():
    config = base_config()
    config["capability_scores"].append(score("local/llama", EMBED, 99))
    config["models"].append(model("local", "zz-embed", capabilities=[EMBED]))
    _set("models", "local/nomic-embed", enabled=False)(config)

    plan = plan_call(RouteRequest(EMBED, inputs=("a",)), compile_config(config), {})

    assert [(c.model, c.score, c.skipped) for c in plan.considered] == [
        ("nomic-embed", 80, "model disabled"),
        ("llama", 99, "does not serve embed"),
        ("zz-embed", None, None),  # unscored counts as 0
    ]


def test_tokens_are_characters_over_four_plus_max_tokens():
    request = RouteRequest(CHAT, user("x" * 9), max_tokens=5)

    assert estimate_tokens(request) == 3 + 5


def test_a_stream_follows_chats_defaults_and_chain_when_it_has_none_of_its_own():
    from tests.routing.support import STREAM

    plan = plan_call(RouteRequest(STREAM, messages=user("hi")), compile_config(), {})

    assert [(s.provider, s.model) for s in plan.steps] == [("local", "llama"), ("cloud", "gpt")]
    assert (plan.defaults_from, plan.chain_from, plan.chain) == (CHAT, CHAT, "chat-safety")


def test_a_stream_configured_separately_routes_by_its_own_settings():
    from tests.routing.support import STREAM, step

    config = base_config()
    config["capability_scores"].append(score("local/qwen-coder", STREAM, 95, default=True))
    config["fallback_chains"].append({
        "name": "stream-only", "capability": STREAM, "is_default": True, "description": "",
        "steps": [step("local/llama")],
    })  # fmt: skip

    plan = plan_call(RouteRequest(STREAM, messages=user("hi")), compile_config(config), {})

    assert [(s.provider, s.model) for s in plan.steps] == [
        ("local", "qwen-coder"), ("local", "llama"),
    ]  # fmt: skip
    assert (plan.defaults_from, plan.chain_from, plan.chain) == (STREAM, STREAM, "stream-only")
