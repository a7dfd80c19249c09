"""Output shapes shared by chat, its stream and embed: usage and `providerInfo`.

They read the routing records (`routing.types`) directly, so the schema
drf-spectacular publishes is the shape the views actually write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from llmcaller.api.fields import SharedFields
from routing.types import Strategy


class OutputSerializer(SharedFields, serializers.Serializer):
    """A response shape (its fields are built once per class: see SharedFields)."""


@dataclass(frozen=True)
class Answer:
    """A routed result as a v1 response carries it."""

    request_id: str
    trace_id: str
    routed: Any


class UsageOutput(OutputSerializer):
    inputTokens = serializers.IntegerField(source="input_tokens")
    outputTokens = serializers.IntegerField(source="output_tokens")


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


class ProviderInfoOutput(OutputSerializer):
    name = serializers.CharField(source="provider")
    model = serializers.CharField()
    routing = RoutingOutput()


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
