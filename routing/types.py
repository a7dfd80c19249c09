"""What the planner decides and what the orchestrator reports: frozen records.

A `RoutePlan` is the ordered steps a call may take; `RoutingInfo` is what a
caller is told about it (`providerInfo.routing`): the capability, the strategy,
the candidates considered and, after a failover, why each earlier step failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from providers.types import ChatResult, EmbedResult, ProviderConfig


class Strategy(StrEnum):
    CALLER_OVERRIDE = "caller-override"
    CAPABILITY_DEFAULT = "capability-default"
    TASK_PREFERENCE = "task-preference"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class RouteQuery:
    """What the caller asked for, as far as routing cares."""

    capability: str
    provider_key: str | None = None
    model_id: str | None = None
    task: str | None = None


@dataclass(frozen=True)
class RouteStep:
    provider: ProviderConfig
    model_id: str
    retry_attempts: int = 0

    @property
    def label(self) -> str:
        return f"{self.provider.key}/{self.model_id}"


@dataclass(frozen=True)
class StepFailure:
    candidate: str
    reason: str


@dataclass(frozen=True)
class RoutingInfo:
    capability: str
    strategy: str
    candidates: tuple[str, ...]
    failures: tuple[StepFailure, ...] = ()


@dataclass(frozen=True)
class RoutePlan:
    capability: str
    strategy: Strategy
    steps: tuple[RouteStep, ...]

    def info(self, failures: tuple[StepFailure, ...] = ()) -> RoutingInfo:
        candidates = tuple(step.label for step in self.steps)
        return RoutingInfo(self.capability, str(self.strategy), candidates, failures)


@dataclass(frozen=True)
class RoutedChat:
    result: ChatResult
    provider: str
    model: str
    routing: RoutingInfo


@dataclass(frozen=True)
class RoutedEmbed:
    result: EmbedResult
    provider: str
    model: str
    routing: RoutingInfo


@dataclass(frozen=True)
class StreamCompleted:
    """The last event of a routed stream: the whole answer and its route."""

    routed: RoutedChat
