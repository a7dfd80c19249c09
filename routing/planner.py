"""`plan_call`: which model a call goes to, and where it goes if that fails.

A pure function of the request, the compiled snapshot and the circuit states:
the same inputs always give the same plan, and it reads no database, cache or
clock. The first step comes from the first rule that yields a usable model:

    1. caller override   the request pinned a provider and/or model (the pin
                         then also limits every fallback), or named a fallback
                         chain (its first usable step; the chain follows)
    2. task preference   chat only: the request's task, else the classifier's
                         (`routing.classifier`), and that task's ordered list
    3. capability default  the capability's default model, then by score
                         (unscored = 0), ties in configuration order

`chatStream` follows chat's defaults (scores and default models) and chat's
default chain unless it has its own: a stream is a chat answered in pieces, and
an operator who set up chat expects streams to go the same way. The plan says
which applied (`defaults_from`, `chain_from`).

Then the capability's default fallback chain (or the one the caller named) is
appended (models already planned
are not repeated, but take the chain's rule for which failures move on). A model
is skipped, with the reason recorded, when its provider or it is disabled,
discovery no longer sees it, its provider's last probe failed or its circuit is
open, it does not serve the capability, it lacks a feature the request needs
(tool use; `response_format`, which its provider's kind must take), the
request does not fit its context
(loaded context, else maximum), or it is not loaded and its provider does not
load on demand.

Tokens are estimated as characters / 4 (a usual average for English text;
exact counts need the model's tokenizer) plus `maxTokens`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from providers.models import Capability, HealthStatus
from routing.classifier import classify_task
from routing.types import (
    DEFAULT_MOVE_ON,
    Candidate,
    ChainSpec,
    CircuitState,
    Feature,
    ModelSpec,
    ProviderSpec,
    RoutePlan,
    RouteRequest,
    RouteStep,
    Snapshot,
    Strategy,
)

CHARS_PER_TOKEN = 4
_CHAT = frozenset({Capability.CHAT, Capability.CHAT_STREAM})


def plan_call(
    request: RouteRequest, snapshot: Snapshot, state: Mapping[str, CircuitState]
) -> RoutePlan:
    tokens = estimate_tokens(request)
    task, task_source, task_reasons = _task_of(request)
    judge = _Judge(request, snapshot, state, tokens)
    defaults_from, chain_from = _settings_of(request.capability, snapshot)
    strategy, primary = None, None
    for rule, candidates in _rules(request, snapshot, task, defaults_from):
        primary = judge.first_usable(candidates, rule)
        if primary is not None:
            strategy = rule
            break
    steps = [primary] if primary else []
    chain = request.chain or snapshot.default_chains.get(chain_from)
    if chain is not None:
        steps = _adopt_move_on(steps, snapshot.chains[chain])
        steps += judge.chain_steps(snapshot.chains[chain], planned=steps)
    return RoutePlan(
        capability=request.capability,
        strategy=strategy or (Strategy.FALLBACK if steps else None),
        steps=tuple(steps),
        considered=tuple(judge.considered),
        task=task, task_source=task_source, task_reasons=task_reasons,
        chain=chain, estimated_tokens=tokens, config_hash=snapshot.config_hash,
        config_version=snapshot.config_version,
        defaults_from=defaults_from, chain_from=chain_from if chain else None,
    )  # fmt: skip


def _settings_of(capability: str, snapshot: Snapshot) -> tuple[str, str]:
    """Whose defaults and default chain a capability routes by: its own, except a
    chatStream with none of its own, which takes chat's."""
    if capability != Capability.CHAT_STREAM:
        return capability, capability
    own_defaults = any(
        capability in m.scores or capability in m.defaults for m in snapshot.models.values()
    )
    own_chain = capability in snapshot.default_chains
    return (
        capability if own_defaults else Capability.CHAT,
        capability if own_chain else Capability.CHAT,
    )


def _adopt_move_on(steps: list[RouteStep], chain: ChainSpec) -> list[RouteStep]:
    """A planned model that is also a step of the chain moves on as that step says."""
    rules = {(spec.provider, spec.model_id): spec.move_on for spec in chain.steps}
    return [
        replace(step, move_on=rules.get((step.provider, step.model), step.move_on))
        for step in steps
    ]


def estimate_tokens(request: RouteRequest) -> int:
    chars = sum(len(m.content) for m in request.messages) + sum(map(len, request.inputs))
    return -(-chars // CHARS_PER_TOKEN) + (request.max_tokens or 0)


def _task_of(request: RouteRequest) -> tuple[str | None, str | None, tuple[str, ...]]:
    if request.capability not in _CHAT:
        return None, None, ()
    if request.task:
        return request.task, "given", ()
    found = classify_task(request.messages)
    return found.task, "classified", found.reasons


def _rules(
    request: RouteRequest, snapshot: Snapshot, task: str | None, defaults_from: str
) -> Iterable[tuple[Strategy, Iterable[ModelSpec | tuple[str, str]]]]:
    if request.chain:
        steps = snapshot.chains[request.chain].steps
        keys = [(step.provider, step.model_id) for step in steps]
        yield Strategy.CALLER_OVERRIDE, [snapshot.models.get(key, key) for key in keys]
        return
    if request.provider or request.model:
        yield Strategy.CALLER_OVERRIDE, _pinned(request, snapshot)
        return  # a pin is never overruled by preferences or defaults
    if task is not None:
        yield Strategy.TASK_PREFERENCE, snapshot.task_preferences.get(task, ())
    yield Strategy.CAPABILITY_DEFAULT, snapshot.ranked.get(defaults_from, ())


def _pinned(request: RouteRequest, snapshot: Snapshot) -> list[ModelSpec | tuple[str, str]]:
    if request.provider and request.model:
        key = (request.provider, request.model)
        return [snapshot.models.get(key, key)]
    ranked = snapshot.ranked.get(request.capability, ())
    seen = {(m.provider, m.model_id) for m in ranked}
    others = [m for key, m in snapshot.models.items() if key not in seen]
    found = [m for m in (*ranked, *others) if _matches_pin(request, m.provider, m.model_id)]
    return found or [(request.provider or "?", request.model or "?")]


def _matches_pin(request: RouteRequest, provider: str, model_id: str) -> bool:
    return request.provider in (None, provider) and request.model in (None, model_id)


class _Judge:
    """Applies the filters to candidates and remembers every verdict."""

    def __init__(
        self,
        request: RouteRequest,
        snapshot: Snapshot,
        state: Mapping[str, CircuitState],
        tokens: int,
    ) -> None:
        self.request, self.snapshot, self.state, self.tokens = request, snapshot, state, tokens
        self.considered: list[Candidate] = []

    def first_usable(
        self, candidates: Iterable[ModelSpec | tuple[str, str]], strategy: Strategy
    ) -> RouteStep | None:
        for candidate in candidates:
            step = self.judge(candidate, strategy)
            if step is not None:
                return step
        return None

    def chain_steps(self, chain: ChainSpec, planned: list[RouteStep]) -> list[RouteStep]:
        steps: list[RouteStep] = []
        for spec in chain.steps:
            key = (spec.provider, spec.model_id)
            if any((s.provider, s.model) == key for s in (*planned, *steps)):
                continue  # already planned: trying it twice would not help
            if not _matches_pin(self.request, *key):
                self._skip(key, Strategy.FALLBACK, None, "does not match the caller's pin")
                continue
            step = self.judge(self.snapshot.models.get(key, key), Strategy.FALLBACK, spec.move_on)
            if step is not None:
                steps.append(step)
        return steps

    def judge(
        self,
        candidate: ModelSpec | tuple[str, str],
        strategy: Strategy,
        move_on: frozenset[str] = DEFAULT_MOVE_ON,
    ) -> RouteStep | None:
        if not isinstance(candidate, ModelSpec):
            self._skip(candidate, strategy, None, "not in the configuration")
            return None
        score = candidate.scores.get(self.request.capability)
        reason = self._reason_to_skip(candidate)
        if reason is not None:
            self._skip((candidate.provider, candidate.model_id), strategy, score, reason)
            return None
        key = (candidate.provider, candidate.model_id)
        self.considered.append(Candidate(*key, strategy, score))
        provider = self.snapshot.providers[candidate.provider]
        needs_load = provider.reports_load_state and not candidate.loaded
        return RouteStep(*key, strategy, score, move_on, needs_load)

    def _reason_to_skip(self, model: ModelSpec) -> str | None:
        provider = self.snapshot.providers.get(model.provider)
        if provider is None or not provider.enabled:
            return "provider disabled"
        if not model.enabled:
            return "model disabled"
        if not model.seen:
            return "no longer found by discovery"
        if provider.health == HealthStatus.FAILED:
            return "provider's last probe failed"
        if self.state.get(model.provider) == CircuitState.OPEN:
            return "provider's circuit is open"
        if self.request.capability not in model.capabilities:
            return f"does not serve {self.request.capability}"
        missing = _missing_feature(self.request.needs, model, provider)
        if missing is not None:
            return f"does not serve {missing}"
        context = model.context_length
        if context is not None and self.tokens > context:
            return f"needs about {self.tokens} tokens; its context holds {context}"
        if provider.reports_load_state and not model.loaded and not provider.load_on_demand:
            return "not loaded, and its provider does not load on demand"
        return None

    def _skip(self, key: tuple[str, str], strategy: Strategy, score: int | None, why: str) -> None:
        self.considered.append(Candidate(key[0], key[1], strategy, score, why))


def _missing_feature(needs: frozenset[str], model: ModelSpec, provider: ProviderSpec) -> str | None:
    for feature in sorted(needs):
        if feature == Feature.TOOLS and not model.tool_use:
            return feature
        if not provider.serves(feature):
            return feature
    return None
