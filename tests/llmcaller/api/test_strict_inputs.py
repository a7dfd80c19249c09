"""What every door's body validation promises, whichever fields a body leaves out:
a declared default is filled in, an optional field left out stays out, and a
field that is present is validated, at the top level and nested alike."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from llmcaller.api.base import StrictCharField, StrictSerializer, validate_data
from llmcaller.errors import BadRequest


class Part(StrictSerializer):
    text = StrictCharField()
    style = StrictCharField(required=False)
    weight = StrictCharField(required=False, default="regular")


class Body(StrictSerializer):
    name = StrictCharField()
    colour = StrictCharField(required=False)
    mode = StrictCharField(required=False, default="plain")
    part = Part(required=False)
    parts = Part(many=True, required=False)
    strict = serializers.BooleanField(required=False, allow_null=True)


def test_a_default_is_filled_in_and_an_optional_field_left_out_stays_out():
    assert validate_data(Body, {"name": "a"}) == {"name": "a", "mode": "plain"}


def test_nested_bodies_keep_the_same_rules():
    data = validate_data(Body, {"name": "a", "part": {"text": "t"}, "parts": [{"text": "u"}]})
    assert data["part"] == {"text": "t", "weight": "regular"}
    assert data["parts"] == [{"text": "u", "weight": "regular"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name: This field is required."),
        ({"name": "a", "colour": 5}, "colour: Not a valid string."),
        ({"name": "a", "mode": 5}, "mode: Not a valid string."),
        ({"name": "a", "part": {}}, "part.text: This field is required."),
        (
            {"name": "a", "parts": [{"text": "u", "style": 1}]},
            "parts[0].style: Not a valid string.",
        ),
        ({"name": "a", "shade": "x"}, "shade: Unknown field."),
    ],
)
def test_a_field_that_is_present_or_required_is_still_checked(body, message):
    with pytest.raises(BadRequest) as refused:
        validate_data(Body, body)
    assert refused.value.message == message
