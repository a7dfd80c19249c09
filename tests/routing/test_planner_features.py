"""plan_call for what OpenAI-style callers ask beyond text: tools, response
formats, and a fallback chain named instead of a model."""

from __future__ import annotations

from routing.planner import plan_call
from routing.types import Feature, RouteRequest
from tests.routing.support import CHAT, base_config, compile_config, user


def _plan(request: RouteRequest, config=None):
    return plan_call(request, compile_config(config), {})


def _with_tool_use(*refs: str):
    config = base_config()
    for row in config["models"]:
        row["tool_use"] = f"{row['provider']}/{row['model_id']}" in refs
    return config


def test_a_model_without_tool_use_is_skipped_with_the_reason() -> None:
    request = RouteRequest(CHAT, messages=user("hi"), needs=frozenset({Feature.TOOLS}))
    plan = _plan(request, _with_tool_use("cloud/gpt"))
    assert [(s.provider, s.model) for s in plan.steps] == [("cloud", "gpt")]
    skipped = {(c.provider, c.model): c.skipped for c in plan.considered if c.skipped}
    assert skipped[("local", "llama")] == "does not serve tools"


def test_without_tools_the_same_models_serve() -> None:
    plan = _plan(RouteRequest(CHAT, messages=user("hi")), _with_tool_use())
    assert plan.steps[0].model == "llama"


def test_a_response_format_skips_kinds_that_do_not_take_it() -> None:
    config = base_config()
    config["providers"][0]["kind"] = "anthropic"  # "cloud"
    request = RouteRequest(CHAT, messages=user("hi"), needs=frozenset({Feature.RESPONSE_FORMAT}))
    plan = _plan(request, config)
    assert ("cloud", "gpt") not in [(s.provider, s.model) for s in plan.steps]
    skipped = {(c.provider, c.model): c.skipped for c in plan.considered if c.skipped}
    assert skipped[("cloud", "gpt")] == "does not serve responseFormat"


def test_a_named_chain_plans_its_steps_in_order() -> None:
    plan = _plan(RouteRequest(CHAT, messages=user("hi"), chain="chat-safety"))
    assert [(s.provider, s.model) for s in plan.steps] == [("cloud", "gpt"), ("local", "llama")]
    assert plan.strategy == "caller-override"
    assert plan.chain == "chat-safety"
