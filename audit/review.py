"""What awaits review: the panels the admin index's overview lists.

The app that owns something a reviewer decides on registers a panel source here
from its `AppConfig.ready()`: routing the configuration versions pending review,
audit the release gates not met and the pilots not closed. A source is a
function of the request that returns a `ReviewPanel`, or None when it has
nothing waiting or the user may not see it. The overview (`llmcaller.overview`)
shows them. The registry lives in audit, which every app may import and which
imports none of them, so each owner registers its own panel without reaching
up the dependency chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest


@dataclass(frozen=True)
class ReviewItem:
    label: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class ReviewPanel:
    title: str
    items: list[ReviewItem] = field(default_factory=list)
    empty: str = "Nothing awaits review."


ReviewSource = Callable[[HttpRequest], ReviewPanel | None]
REVIEW_PANELS: list[ReviewSource] = []


def register_review_panel(source: ReviewSource) -> ReviewSource:
    """Add a panel to "What awaits review" (usable as a decorator)."""
    if source not in REVIEW_PANELS:
        REVIEW_PANELS.append(source)
    return source


def review_panels(request: HttpRequest) -> list[ReviewPanel]:
    """The registered panels that have something to show this user."""
    return [panel for panel in (source(request) for source in REVIEW_PANELS) if panel]
