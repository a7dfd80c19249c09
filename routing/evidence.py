"""A configuration version as an evidence pack shows it: what it is and how it
differs from the previous approved version.

`audit` builds evidence packs but imports nothing of routing, so routing hands
it `describe_version` from `RoutingConfig.ready()`. "Previous approved" is the
newest earlier version that was approved, or published where no review was
required (both took effect as reviewed); the diff is `routing.config_diff`'s,
row by row and field by field.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from routing.config_diff import diff_configs
from routing.models import ConfigVersion, VersionStatus
from routing.versions import active_version

IN_FORCE = (VersionStatus.APPROVED, VersionStatus.PUBLISHED)


def describe_version(number: int | None) -> dict[str, Any] | None:
    """Version `number` (None: the active one), or None when there is no such version."""
    if number is None:
        version = active_version()
    else:
        version = ConfigVersion.objects.filter(number=number).first()
    if version is None:
        return None
    previous = (
        ConfigVersion.objects.filter(number__lt=version.number, status__in=IN_FORCE)
        .order_by("-number")
        .first()
    )
    return {
        **_fields(version),
        "previous": _fields(previous) if previous else None,
        "diff": _diff(previous, version) if previous else None,
    }


def _fields(version: ConfigVersion) -> dict[str, Any]:
    return {
        "number": version.number, "sha256": version.sha256, "author": version.author,
        "createdAt": version.created_at.isoformat(), "summary": version.summary,
        "status": version.status,
    }  # fmt: skip


def _diff(old: ConfigVersion, new: ConfigVersion) -> list[dict[str, Any]]:
    changes = diff_configs(json.loads(old.canonical), json.loads(new.canonical))
    return [asdict(change) for change in changes]
