"""System checks for provider rows an operator could not have meant."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from providers.adapters import ADAPTERS


@register(Tags.database)
def check_provider_kinds(app_configs, **kwargs) -> list[Error]:
    from providers.models import Provider

    try:
        unknown = list(Provider.objects.exclude(kind__in=ADAPTERS).values_list("key", "kind"))
    except DatabaseError:
        return []  # not migrated yet: nothing to check
    return [
        Error(
            f"Provider {key!r} has kind {kind!r}, which no adapter serves.",
            hint=f"Use one of: {', '.join(ADAPTERS)}.",
            id="providers.E001",
        )
        for key, kind in unknown
    ]
