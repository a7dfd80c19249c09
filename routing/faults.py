"""Fault injection: which rehearsed failure, if any, a call to a model meets.

`pick_fault` is pure: the rules come from the snapshot, the time and the random
source are passed in. A rule applies when it is enabled, inside its window
(`starts_at` ≤ now < `expires_at`, either end open), and targets the provider or
this very model; each applicable rule, in configuration (name) order, then rolls
its probability, and the first hit is returned. Nothing is ever injected unless
LLMCALLER_FAULTS_ENABLED is on (pass `enabled` to decide explicitly).
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from django.conf import settings

from routing.types import FaultSpec


def pick_fault(
    rules: Iterable[FaultSpec],
    provider: str,
    model: str,
    now: float,
    rng: random.Random,
    *,
    enabled: bool | None = None,
) -> FaultSpec | None:
    if not (settings.LLMCALLER_FAULTS_ENABLED if enabled is None else enabled):
        return None
    for rule in rules:
        if _applies(rule, provider, model, now) and rng.random() < rule.probability:
            return rule
    return None


def _applies(rule: FaultSpec, provider: str, model: str, now: float) -> bool:
    if not rule.enabled or rule.provider != provider:
        return False
    if rule.model_id is not None and rule.model_id != model:
        return False
    started = rule.starts_at is None or rule.starts_at <= now
    return started and (rule.expires_at is None or now < rule.expires_at)
