"""Values routing hands around: small frozen records, never dicts.

The compiled configuration (`Snapshot` and the `*Spec` records it holds) is what
the planner reads instead of the database; `RouteRequest` is what the planner
needs to know about a call; `RoutePlan` is its answer, with every candidate it
considered and why each skipped one was skipped.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from providers.secrets import CredentialSource, ResolvedCredential
from providers.types import (
    ChatMessage,
    ChatResult,
    EmbedResult,
    ProviderConfig,
)


class Strategy(enum.StrEnum):
    CALLER_OVERRIDE = "caller-override"
    TASK_PREFERENCE = "task-preference"
    CAPABILITY_DEFAULT = "capability-default"
    FALLBACK = "fallback"


class Feature(enum.StrEnum):
    """What a chat request may need beyond text; a model that lacks it is skipped."""

    TOOLS = "tools"  # the model is trained for tool use (discovered, or set by an admin)
    RESPONSE_FORMAT = "responseFormat"  # the provider's kind takes `response_format`


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


# A step that is not part of a fallback chain hands every retryable failure on.
DEFAULT_MOVE_ON = frozenset({"TEMPORARY", "RATE_LIMIT", "TIMEOUT", "AUTH"})


@dataclass(frozen=True)
class ProviderSpec:
    key: str
    name: str
    kind: str
    base_url: str
    timeout: float
    retry_attempts: int
    enabled: bool
    load_on_demand: bool
    reports_load_state: bool
    health: str
    credential_source: CredentialSource | None = None
    serves_response_format: bool = True  # from its adapter kind
    # Read once per snapshot (and again after a minute), not once per attempt.
    _credential: ResolvedCredential | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        source = self.credential_source or CredentialSource(self.key)
        object.__setattr__(self, "_credential", ResolvedCredential(source))

    def serves(self, feature: str) -> bool:
        return feature != Feature.RESPONSE_FORMAT or self.serves_response_format

    def to_config(self) -> ProviderConfig:
        """Raises `CredentialUnavailable` when the configured source yields nothing."""
        credential = self._credential.value()
        return ProviderConfig(self.key, self.kind, self.base_url, self.timeout, credential)


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    model_id: str
    capabilities: frozenset[str]
    enabled: bool
    seen: bool
    loaded: bool
    max_context_length: int | None
    loaded_context_length: int | None
    scores: Mapping[str, int]
    defaults: frozenset[str]
    order: int  # position in configuration order (provider key, model id): breaks ties
    description: str = ""
    tool_use: bool = False

    @property
    def context_length(self) -> int | None:
        """What a request must fit in: the loaded context, else the maximum."""
        return self.loaded_context_length or self.max_context_length


@dataclass(frozen=True)
class ChainStepSpec:
    provider: str
    model_id: str
    move_on: frozenset[str]


@dataclass(frozen=True)
class ChainSpec:
    name: str
    capability: str
    is_default: bool
    steps: tuple[ChainStepSpec, ...]


@dataclass(frozen=True)
class FaultSpec:
    name: str
    provider: str
    model_id: str | None  # None: every model of the provider
    kind: str
    probability: float
    latency_ms: int
    break_after: int
    starts_at: float | None  # epoch seconds
    expires_at: float | None
    enabled: bool


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The active configuration version plus runtime facts, compiled for lookups."""

    config_hash: str
    generation: int
    providers: Mapping[str, ProviderSpec]
    models: Mapping[tuple[str, str], ModelSpec]
    ranked: Mapping[str, tuple[ModelSpec, ...]]  # per capability: default, score, order
    task_preferences: Mapping[str, tuple[ModelSpec, ...]]
    chains: Mapping[str, ChainSpec]
    default_chains: Mapping[str, str]  # capability -> chain name
    faults: tuple[FaultSpec, ...] = ()
    config_version: int | None = None  # the number of the version compiled


@dataclass(frozen=True)
class RouteRequest:
    """The facts of one call that routing looks at."""

    capability: str
    messages: tuple[ChatMessage, ...] = ()
    inputs: tuple[str, ...] = ()
    task: str | None = None
    provider: str | None = None  # pinned by the caller
    model: str | None = None  # pinned by the caller
    max_tokens: int | None = None
    chain: str | None = None  # a fallback chain the caller named instead of a model
    needs: frozenset[str] = frozenset()  # `Feature`s every planned model must have


@dataclass(frozen=True)
class Classification:
    task: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """A model the planner looked at, and why it was skipped (None: usable)."""

    provider: str
    model: str
    strategy: str
    score: int | None
    skipped: str | None = None


@dataclass(frozen=True)
class RouteStep:
    provider: str
    model: str
    strategy: str
    score: int | None
    move_on: frozenset[str] = DEFAULT_MOVE_ON
    needs_load: bool = False  # not loaded yet; its provider loads on demand

    @property
    def move_on_sorted(self) -> tuple[str, ...]:
        return tuple(sorted(self.move_on))


@dataclass(frozen=True)
class RoutePlan:
    capability: str
    strategy: str | None  # how the first step was chosen; None when nothing is usable
    steps: tuple[RouteStep, ...]
    considered: tuple[Candidate, ...]
    task: str | None = None
    task_source: str | None = None  # "given" or "classified"
    task_reasons: tuple[str, ...] = ()
    chain: str | None = None
    estimated_tokens: int = 0
    config_hash: str = ""
    config_version: int | None = None
    defaults_from: str = ""  # whose defaults ranked the models (chatStream may take chat's)
    chain_from: str | None = None  # whose default chain was appended, if any

    @property
    def primary(self) -> RouteStep | None:
        return self.steps[0] if self.steps else None


@dataclass(frozen=True)
class Attempt:
    """One try at one step: what came of it, how long it took, any injected fault."""

    provider: str
    model: str
    outcome: str  # "ok", an error class (TEMPORARY, TIMEOUT, …) or "skipped: …"
    latency_ms: float
    fault: str | None = None


@dataclass(frozen=True)
class RoutingInfo:
    """What a caller is told about the route (`providerInfo.routing`)."""

    plan: RoutePlan
    strategy: str  # as planned, or "fallback" when a later step answered
    attempts: tuple[Attempt, ...] = ()
    fallback_reason: str | None = None
    cache_hit: bool = False


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


@dataclass(frozen=True)
class CachePolicy:
    """A client's opt-in to the response cache: its namespace and time to live."""

    client: str
    ttl_seconds: int
