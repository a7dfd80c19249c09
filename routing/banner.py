"""The admin banner about configuration versions, on every admin page.

It says when the working copy has changes no version holds yet (publish them),
when versions wait for review, when the active version is not the last
approved one (after a re-activation, say), and which release gates are not met
yet and who still has to sign. It is a context processor whose
value the base template calls only when it renders, so other pages pay nothing.
`pending_versions_panel` lists the versions awaiting review on the admin
overview (registered in `audit.review` by the routing app).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from audit.releases import pending_gates
from audit.review import ReviewItem, ReviewPanel
from routing.models import ConfigVersion, VersionStatus
from routing.versions import active_version, has_unpublished_changes, reusable_statuses


@dataclass(frozen=True)
class BannerNote:
    text: str
    url: str
    link: str


def config_banner(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.namespace != "admin" or user is None or not user.is_staff:
        return {}
    return {"config_banner": banner_notes}


def banner_notes() -> list[BannerNote]:
    notes = []
    active = active_version()
    if has_unpublished_changes():
        publish = reverse("admin:routing_configversion_publish")
        against = f"the active {active}" if active else "any version"
        notes.append(BannerNote(f"The working copy has changes not in {against}.", publish,
                                "Review and publish them"))  # fmt: skip
    pending = ConfigVersion.objects.filter(status=VersionStatus.PENDING).order_by("number")
    for version in pending[:3]:
        url = reverse("admin:routing_configversion_change", args=[version.pk])
        notes.append(BannerNote(f"{version} waits for review.", url, "Open it"))
    approved = ConfigVersion.objects.filter(status__in=reusable_statuses()).order_by("-number")
    last = approved.first()
    if active is not None and last is not None and last.pk != active.pk:
        url = reverse("admin:routing_configversion_change", args=[last.pk])
        notes.append(BannerNote(f"The active {active} is not the last approved one ({last}).",
                                url, "Open the last approved"))  # fmt: skip
    for gate in pending_gates():
        url = reverse("admin:audit_release_change", args=[gate.release.pk])
        text = f"{gate.release}: gate not met for configuration version "
        text += f"{gate.release.config_version}; waiting for {', '.join(gate.missing)}."
        if active is not None and gate.release.config_version != active.number:
            text += f" The active version is {active.number}."
        notes.append(BannerNote(text, url, "Open the release"))
    return notes


def pending_versions_panel(request: HttpRequest, limit: int = 10) -> ReviewPanel | None:
    """The overview's panel: configuration versions pending review, oldest first."""
    if not request.user.has_perm("routing.view_configversion"):
        return None
    pending = ConfigVersion.objects.filter(status=VersionStatus.PENDING).order_by("number")
    items = [
        ReviewItem(
            str(version),
            reverse("admin:routing_configversion_change", args=[version.pk]),
            f"by {version.author}: {version.summary}",
        )
        for version in pending[:limit]
    ]
    return ReviewPanel("Configuration versions pending review", items) if items else None
