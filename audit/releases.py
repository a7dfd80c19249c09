"""Release gates: who has approved the configuration version a release ships.

A reviewer signs off a release through `sign_release`, which records a sign-off
on the subject "this release at this configuration version". The gate is met
when, for every required role, the latest decision of a reviewer holding that
role (at the time of signing) is an approval. Pointing the release at another
version starts from nothing, since the subject changes with the version.
Gates not met are listed in the admin banner and on the overview
(`release_gates_panel`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from audit.models import Release, SignOff, SignOffDecision
from audit.review import ReviewItem, ReviewPanel
from audit.roles import reviewer_role
from audit.services import record_sign_off

SUBJECT_KIND = "release"


@dataclass(frozen=True)
class GateStatus:
    release: Release
    approved: tuple[str, ...]  # required roles whose latest decision is an approval
    missing: tuple[str, ...]  # required roles still to approve

    @property
    def met(self) -> bool:
        return not self.missing


def sign_release(
    *, release: Release, reviewer: object, decision: str, notes: str = "",
    evidence: Sequence[str] = (),
) -> SignOff:  # fmt: skip
    return record_sign_off(
        subject_kind=SUBJECT_KIND, subject_id=release.subject_id,
        subject_label=f"{release} (configuration version {release.config_version})",
        decision=decision, reviewer=reviewer.get_username(),
        reviewer_role=reviewer_role(reviewer), notes=notes, evidence=evidence,
    )  # fmt: skip


def gate_status(release: Release) -> GateStatus:
    return _gate_statuses([release])[0]


def pending_gates(limit: int = 5) -> list[GateStatus]:
    """Releases whose gate is not met yet, newest first (two queries)."""
    statuses = _gate_statuses(list(Release.objects.all()[: limit * 4]))
    return [status for status in statuses if not status.met][:limit]


def _gate_statuses(releases: list[Release]) -> list[GateStatus]:
    """Each release's gate, from one query over the sign-offs of them all."""
    subjects = [release.subject_id for release in releases]
    rows = SignOff.objects.filter(subject_kind=SUBJECT_KIND, subject_id__in=subjects)
    latest: dict[str, dict[str, str]] = defaultdict(dict)  # subject -> role -> decision
    for subject, roles, decision in rows.order_by("created_at", "id").values_list(
        "subject_id", "reviewer_role", "decision"
    ):
        for role in roles.split(", "):
            latest[subject][role] = decision
    return [_gate(release, latest[release.subject_id]) for release in releases]


def _gate(release: Release, latest: dict[str, str]) -> GateStatus:
    required = tuple(release.required_roles)
    approved = tuple(r for r in required if latest.get(r) == SignOffDecision.APPROVE)
    return GateStatus(release, approved, tuple(r for r in required if r not in approved))


def release_gates_panel(request: HttpRequest) -> ReviewPanel | None:
    """The overview's panel: release gates not met, and who still has to sign."""
    if not request.user.has_perm("audit.view_release"):
        return None
    items = [
        ReviewItem(
            f"{gate.release} (configuration version {gate.release.config_version})",
            reverse("admin:audit_release_change", args=[gate.release.pk]),
            f"waiting for {', '.join(gate.missing)}",
        )
        for gate in pending_gates()
    ]
    return ReviewPanel("Release gates not met", items) if items else None
