"""The request bodies the OpenAI door accepts, as strict DRF serializers.

Fields OpenAI defines but the gateway cannot honour are refused by name rather
than silently ignored (unknown fields get 400, as on the v1 API), except a few
that change nothing about the answer (`user`, `metadata`, `store`,
`parallel_tool_calls`, `n` of 1). Message content may be text or a list of text
parts; other parts (images, audio, files) are refused.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from llmcaller.api.base import (
    MaxTokensField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
)
from providers.types import ToolChoice

_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
_FORMATS = frozenset({"text", "json_object", "json_schema"})


class StrictBooleanField(serializers.BooleanField):
    """true or false, not "true" or 1: `stream` decides the method before validation."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ContentField(serializers.Field):
    """Text, a list of text parts (joined), or null (an assistant's tool calls)."""

    default_error_messages = {
        "invalid": "Content must be text or a list of text parts.",
        "part": "Only text content parts are served.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            return data
        if not isinstance(data, list):
            self.fail("invalid")
        for part in data:
            if not isinstance(part, dict) or part.get("type") not in _TEXT_PARTS:
                self.fail("part")
            if not isinstance(part.get("text"), str):
                self.fail("invalid")
        return "".join(part["text"] for part in data)

    def to_representation(self, value: Any) -> Any:
        return value


class ToolChoiceField(serializers.Field):
    default_error_messages = {
        "invalid": 'Use "auto", "none", "required" or a {"type": "function", …} object.'
    }

    def to_internal_value(self, data: Any) -> ToolChoice:
        if data in ("auto", "none", "required"):
            return ToolChoice(data)
        if isinstance(data, dict) and data.get("type") == "function":
            name = (data.get("function") or {}).get("name")
            if isinstance(name, str) and name:
                return ToolChoice("function", name)
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


class ResponseFormatField(serializers.DictField):
    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if value.get("type") not in _FORMATS:
            raise serializers.ValidationError(f"type must be one of {', '.join(sorted(_FORMATS))}.")
        return value


class FunctionCallInput(StrictSerializer):
    name = StrictCharField(max_length=128)
    arguments = StrictCharField(allow_blank=True, trim_whitespace=False)


class ToolCallInput(StrictSerializer):
    id = StrictCharField(max_length=256)
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionCallInput()


class MessageInput(StrictSerializer):
    role = serializers.ChoiceField(choices=["system", "developer", "user", "assistant", "tool"])
    content = ContentField()
    name = StrictCharField(required=False, max_length=256)
    tool_calls = ToolCallInput(many=True, required=False)
    tool_call_id = StrictCharField(required=False, max_length=256)


class FunctionInput(StrictSerializer):
    name = StrictCharField(max_length=128)
    description = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
    parameters = serializers.DictField(required=False)
    strict = serializers.BooleanField(required=False, allow_null=True)


class ToolInput(StrictSerializer):
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionInput()


class StreamOptionsInput(StrictSerializer):
    include_usage = serializers.BooleanField(required=False)


class HarmlessFields(StrictSerializer):
    """Fields that change nothing about the answer; accepted and not passed on."""

    user = StrictCharField(required=False, max_length=256)
    metadata = serializers.DictField(required=False)
    store = serializers.BooleanField(required=False)
    parallel_tool_calls = serializers.BooleanField(required=False)


class ChatCompletionInput(HarmlessFields):
    model = StrictCharField(max_length=255)
    messages = MessageInput(many=True, allow_empty=False)
    stream = StrictBooleanField(required=False, default=False)
    stream_options = StreamOptionsInput(required=False, allow_null=True)
    temperature = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=2)
    max_tokens = MaxTokensField(allow_null=True)
    max_completion_tokens = MaxTokensField(allow_null=True)
    tools = ToolInput(many=True, required=False)
    tool_choice = ToolChoiceField(required=False)
    response_format = ResponseFormatField(required=False)
    n = StrictIntegerField(required=False, min_value=1, max_value=1)


class EmbeddingsInput(HarmlessFields):
    model = StrictCharField(max_length=255)
    input = serializers.JSONField()
    encoding_format = serializers.ChoiceField(choices=["float", "base64"], required=False)
    dimensions = StrictIntegerField(required=False, min_value=1)

    def validate_input(self, value: Any) -> list[str]:
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise serializers.ValidationError("Give a string or a non-empty list of strings.")
        return texts
