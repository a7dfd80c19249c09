"""pick_fault: pure, windowed, targeted, probabilistic, and off unless enabled."""

from __future__ import annotations

import random

import pytest

from routing.faults import active_faults, pick_fault
from routing.types import FaultSpec

NOW = 1_700_000_000.0


def rule(name: str = "f", **fields) -> FaultSpec:
    values = dict(
        name=name, provider="local", model_id=None, kind="TEMPORARY", probability=1.0,
        latency_ms=0, break_after=1, starts_at=None, expires_at=None, enabled=True,
    )  # fmt: skip
    return FaultSpec(**(values | fields))


@pytest.mark.parametrize(
    ("fields", "provider", "model", "hit"),
    [
        ({}, "local", "llama", True),
        ({}, "cloud", "llama", False),
        ({"model_id": "llama"}, "local", "llama", True),
        ({"model_id": "qwen"}, "local", "llama", False),
        ({"enabled": False}, "local", "llama", False),
        ({"starts_at": NOW + 1}, "local", "llama", False),
        ({"starts_at": NOW}, "local", "llama", True),
        ({"expires_at": NOW}, "local", "llama", False),
        ({"expires_at": NOW + 1}, "local", "llama", True),
        ({"probability": 0.0}, "local", "llama", False),
    ],
)
def test_which_rules_apply(fields, provider, model, hit):
    found = pick_fault([rule(**fields)], provider, model, NOW, random.Random(1), enabled=True)

    assert (found is not None) is hit


def test_nothing_is_injected_while_the_setting_is_off(settings):
    settings.LLMCALLER_FAULTS_ENABLED = False

    assert pick_fault([rule()], "local", "m", NOW, random.Random(1)) is None

    settings.LLMCALLER_FAULTS_ENABLED = True
    assert pick_fault([rule()], "local", "m", NOW, random.Random(1)) == rule()


def test_the_probability_is_rolled_with_the_given_random_source():
    rules = [rule("half", probability=0.5), rule("always", kind="LATENCY", latency_ms=200)]

    picks = [pick_fault(rules, "local", "m", NOW, random.Random(seed), enabled=True).name
             for seed in range(200)]  # fmt: skip

    assert 70 < picks.count("half") < 130
    assert set(picks) == {"half", "always"}
    assert picks == [pick_fault(rules, "local", "m", NOW, random.Random(s), enabled=True).name
                     for s in range(200)]  # fmt: skip


def test_active_faults_are_the_enabled_rules_inside_their_window_whatever_they_target():
    rules = [
        rule("now", provider="cloud", model_id="gpt"), rule("later", starts_at=NOW + 1),
        rule("over", expires_at=NOW), rule("off", enabled=False), rule("rare", probability=0.0),
    ]  # fmt: skip

    assert [r.name for r in active_faults(rules, NOW, enabled=True)] == ["now", "rare"]
    assert active_faults(rules, NOW, enabled=False) == []
