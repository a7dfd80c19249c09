"""System checks for routing configuration an operator probably did not mean."""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError

from providers.models import Capability


@register(Tags.database)
def check_capability_defaults(app_configs: Any, **kwargs: Any) -> list[Warning]:
    from routing.models import CapabilityScore

    try:
        defaulted = set(
            CapabilityScore.objects.filter(is_default=True).values_list("capability", flat=True)
        )
    except DatabaseError:
        return []  # not migrated yet: nothing to check
    return [
        Warning(
            f"No model is the default for capability {capability!r}.",
            hint="Mark one in Routing › Capability scores; until then the best score wins.",
            id="routing.W001",
        )
        for capability in Capability.values
        if capability not in defaulted
    ]
