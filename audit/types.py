"""What a caller hands to the audit trail: one frozen record per call.

`CallRecordData` is the only value other apps build for `audit.services.record_call`.
It is validated when constructed, so a malformed record fails in the caller that
made it, never inside a shared batch where it would fail every other request's
record with it. `CallOutcome` and `CallMethod` are the choices the rows store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models


class CallOutcome(models.TextChoices):
    SUCCESS = "success", "success"
    UPSTREAM_ERROR = "upstream_error", "upstream error"
    REJECTED_AUTH = "rejected_auth", "rejected: authentication"
    REJECTED_LIMIT = "rejected_limit", "rejected: limit"
    REJECTED_BUDGET = "rejected_budget", "rejected: budget"
    INVALID_REQUEST = "invalid_request", "invalid request"
    NO_ROUTE = "no_route", "refused: no route"
    CLIENT_GONE = "client_gone", "client gone"


class CallDoor(models.TextChoices):
    """The interface a call came in by."""

    V1 = "v1", "v1 API"
    OPENAI = "openai", "OpenAI-compatible"
    MCP = "mcp", "MCP"
    ADMIN = "admin", "admin"


class CallMethod(models.TextChoices):
    CHAT = "chat", "chat"
    CHAT_STREAM = "chatStream", "chat stream"
    EMBED = "embed", "embed"
    MODELS = "models", "models"
    GET_HEALTH = "getHealth", "health"
    EXPLAIN_ROUTE = "explainRoute", "explain route"


# Built once: `Choices.values` builds a new list on every access.
_OUTCOMES = frozenset(CallOutcome.values)
_METHODS = frozenset(CallMethod.values)
_DOORS = frozenset(CallDoor.values)
_INTEGERS = (
    "client_id", "http_status", "latency_ms", "ttft_ms", "input_tokens", "output_tokens",
    "config_version", "content_retention_days",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class CallRecordData:
    """One call as the gateway saw it. Texts are None unless the client opted in."""

    request_id: str
    method: str
    outcome: str
    started_at: datetime
    trace_id: str = ""
    client_id: int | None = None
    client_name: str = ""
    caller_tool: str = ""
    provider: str = ""
    model: str = ""
    strategy: str = ""
    routing: dict[str, Any] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    error_class: str = ""  # TEMPORARY, RATE_LIMIT, AUTH, PERMANENT, CONFIG, … or ""
    http_status: int | None = None
    latency_ms: int = 0
    ttft_ms: int | None = None  # time to first token, streamed calls only
    input_tokens: int = 0
    output_tokens: int = 0
    config_hash: str = ""
    config_version: int | None = None
    door: str = CallDoor.V1
    source_address: str = ""  # the caller's address, as the transport saw it
    token_prefix: str = ""  # the first characters of the token presented, never more
    message: str = ""  # the message the caller got, when the call failed
    usage_estimated: bool = False  # tokens counted by the gateway, not the upstream
    prompt_text: str | None = None
    response_text: str | None = None
    content_retention_days: int | None = None  # None: AUDIT_CONTENT_RETENTION_DAYS
    # Whether the client had a token budget: only then are its counters raised
    # (`audit.budgets.count_usage`). Not stored; unknown counts as having one.
    client_has_budget: bool = True

    def __post_init__(self) -> None:
        # Checked here so a bad record fails its own caller, not a shared batch.
        for name in _INTEGERS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, int(value))
        json.dumps([self.routing, self.attempts])  # TypeError if not JSON
        if self.outcome not in _OUTCOMES:
            raise ValueError(f"Unknown call outcome {self.outcome!r}.")
        if self.method not in _METHODS:
            raise ValueError(f"Unknown call method {self.method!r}.")
        if self.door not in _DOORS:
            raise ValueError(f"Unknown door {self.door!r}.")
        if self.started_at.tzinfo is None:
            raise ValueError("started_at must be an aware datetime.")
        for name in ("latency_ms", "input_tokens", "output_tokens"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative.")
        if self.ttft_ms is not None and self.ttft_ms < 0:
            raise ValueError("ttft_ms must not be negative.")

    @property
    def keeps_content(self) -> bool:
        return self.prompt_text is not None or self.response_text is not None


@dataclass(frozen=True, slots=True)
class Usage:
    """What a client used in a window: calls, failed calls and tokens."""

    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
