"""Output shapes shared by chat, its stream and embed: usage and `providerInfo`.

They read the routing records (`routing.types`) directly, so the schema
drf-spectacular publishes is the shape the views actually write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from routing.types import Strategy


@dataclass(frozen=True)
class Answer:
    """A routed result as a v1 response carries it."""

    request_id: str
    trace_id: str
    routed: Any


class UsageOutput(serializers.Serializer):
    inputTokens = serializers.IntegerField(source="input_tokens")
    outputTokens = serializers.IntegerField(source="output_tokens")


class StepFailureOutput(serializers.Serializer):
    candidate = serializers.CharField()
    reason = serializers.CharField()


class RoutingOutput(serializers.Serializer):
    capability = serializers.CharField()
    strategy = serializers.ChoiceField(choices=[s.value for s in Strategy])
    candidates = serializers.ListField(child=serializers.CharField())
    failures = StepFailureOutput(many=True)


class ProviderInfoOutput(serializers.Serializer):
    name = serializers.CharField(source="provider")
    model = serializers.CharField()
    routing = RoutingOutput()


class MessageOutput(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField()


class ErrorOutput(serializers.Serializer):
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
