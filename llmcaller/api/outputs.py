"""Output shapes shared by chat, its stream and embed: usage and `providerInfo`.

The serializers are the published schema: drf-spectacular reads them, and they
read the routing records (`routing.types`) directly. The views write the same
shapes with the plain `*_json` functions beside them: DRF took about 60 µs of
CPU to render a routed chat answer, and as long again for the call record's
copy of its routing. Tests hold the two together: each function must write
exactly what its serializer would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from llmcaller.api.fields import SharedFields
from providers.types import Usage
from routing.types import RoutedChat, RoutedEmbed, RoutingInfo, Strategy


class OutputSerializer(SharedFields, serializers.Serializer):
    """A response shape (its fields are built once per class: see SharedFields)."""


@dataclass(frozen=True)
class Answer:
    """A routed result as the v1 answer serializers read it."""

    request_id: str
    trace_id: str
    routed: Any


class UsageOutput(OutputSerializer):
    inputTokens = serializers.IntegerField(source="input_tokens")
    outputTokens = serializers.IntegerField(source="output_tokens")
    estimated = serializers.BooleanField(
        required=False,
        help_text="Present, and true, only when the upstream reported no usage and the "
        "gateway estimated it (about four characters a token): see docs/STREAMS.md.",
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not data.get("estimated"):
            data.pop("estimated", None)  # the v1 shape, unchanged for reported usage
        return data


def usage_json(usage: Usage) -> dict[str, Any]:
    if usage.estimated:
        return {"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens,
                "estimated": True}  # fmt: skip
    return {"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens}


class CandidateOutput(OutputSerializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    strategy = serializers.ChoiceField(choices=[s.value for s in Strategy])
    score = serializers.IntegerField(allow_null=True)
    skipped = serializers.CharField(allow_null=True, help_text="Why it was not used; null: usable.")


class AttemptOutput(OutputSerializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    outcome = serializers.CharField(help_text="ok, an error class, or why it was skipped.")
    latencyMs = serializers.FloatField(source="latency_ms")
    fault = serializers.CharField(allow_null=True, help_text="The injected fault rule, if any.")


class RoutingOutput(OutputSerializer):
    capability = serializers.CharField(source="plan.capability")
    strategy = serializers.ChoiceField(choices=[s.value for s in Strategy])
    task = serializers.CharField(source="plan.task", allow_null=True)
    taskSource = serializers.ChoiceField(
        source="plan.task_source", choices=["given", "classified"], allow_null=True
    )
    taskReasons = serializers.ListField(source="plan.task_reasons", child=serializers.CharField())
    chain = serializers.CharField(source="plan.chain", allow_null=True)
    candidates = CandidateOutput(source="plan.considered", many=True)
    attempts = AttemptOutput(many=True)
    fallbackReason = serializers.CharField(source="fallback_reason", allow_null=True)
    cacheHit = serializers.BooleanField(source="cache_hit")
    configHash = serializers.CharField(source="plan.config_hash")
    configVersion = serializers.IntegerField(
        source="plan.config_version", allow_null=True, help_text="The configuration version."
    )


def routing_json(routing: RoutingInfo) -> dict[str, Any]:
    """`RoutingOutput`: rendered once per call, for the answer and the call record.

    `str()` turns the enum members routing hands over (Capability, Task,
    Strategy) into their plain values, as the serializer's fields do."""
    plan = routing.plan
    return {
        "capability": str(plan.capability), "strategy": routing.strategy,
        "task": None if plan.task is None else str(plan.task),
        "taskSource": plan.task_source, "taskReasons": list(plan.task_reasons),
        "chain": plan.chain,
        "candidates": [
            {"provider": c.provider, "model": c.model, "strategy": str(c.strategy),
             "score": c.score, "skipped": c.skipped}
            for c in plan.considered
        ],
        "attempts": [
            # float(): a skipped step's latency is the integer 0
            {"provider": a.provider, "model": a.model, "outcome": a.outcome,
             "latencyMs": float(a.latency_ms), "fault": a.fault}
            for a in routing.attempts
        ],
        "fallbackReason": routing.fallback_reason, "cacheHit": routing.cache_hit,
        "configHash": plan.config_hash, "configVersion": plan.config_version,
    }  # fmt: skip


class ProviderInfoOutput(OutputSerializer):
    name = serializers.CharField(source="provider")
    model = serializers.CharField()
    routing = RoutingOutput()


def provider_info_json(routed: RoutedChat | RoutedEmbed, routing: dict[str, Any]) -> dict[str, Any]:
    """`providerInfo` of a routed chat or embed, with its rendered `routing`."""
    return {"name": routed.provider, "model": routed.model, "routing": routing}


class MessageOutput(OutputSerializer):
    role = serializers.CharField()
    content = serializers.CharField()


class ErrorOutput(OutputSerializer):
    error = serializers.ChoiceField(
        choices=[
            "BAD_REQUEST",
            "UNAUTHENTICATED",
            "FORBIDDEN",
            "RATE_LIMIT",
            "TEMPORARY",
            "PERMANENT",
            "AUTH",
            "CONFIG",
        ]
    )
    message = serializers.CharField()
    traceId = serializers.CharField()
    retryAfterMs = serializers.IntegerField(required=False)
