"""Serializer fields built once per class instead of once per request.

DRF deep-copies and binds every declared field each time a serializer is
instantiated, nested serializers included: about 3 ms for a chat answer and
1 ms for a chat request here. Our API serializers hold no per-call state in
their fields (no context, no per-instance field changes), so the bound fields
are built by the first instance of each class and shared by all later ones.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class SharedFields:
    @property
    def fields(self) -> Any:
        cls = type(self)
        shared = cls.__dict__.get("_shared_fields")
        if shared is None:
            shared = serializers.Serializer.fields.func(self)
            cls._shared_fields = shared
        return shared
