"""The configuration generation: how workers learn that their snapshot is stale.

One counter row, `ConfigGeneration.number`, moves whenever what a snapshot is
compiled from changes: a version is activated (`routing.versions`), or a runtime
fact routing overlays on it (health, loaded state) is written
(`routing.receivers`). Workers read it at most once a second.
"""

from __future__ import annotations

from django.db.models import F

from routing.models import ConfigGeneration

_SINGLETON = 1


def bump_generation() -> None:
    updated = ConfigGeneration.objects.filter(pk=_SINGLETON).update(number=F("number") + 1)
    if not updated:
        ConfigGeneration.objects.get_or_create(pk=_SINGLETON, defaults={"number": 1})


def read_generation() -> int:
    number = ConfigGeneration.objects.filter(pk=_SINGLETON).values_list("number", flat=True)
    return next(iter(number), 0)
