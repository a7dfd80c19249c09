"""Release gates: who has approved the configuration version a release ships.

A reviewer signs off a release through `sign_release`, which records a sign-off
on the subject "this release at this configuration version". The gate is met
when, for every required role, the latest decision of a reviewer holding that
role (at the time of signing) is an approval, and each role's approval comes from
a different person. Pointing the release at another
version starts from nothing, since the subject changes with the version.
Gates not met are listed in the admin banner and on the overview
(`release_gates_panel`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
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
    return gate_of(release, release_sign_offs(release))


def release_sign_offs(release: Release) -> QuerySet[SignOff]:
    return SignOff.objects.filter(subject_kind=SUBJECT_KIND, subject_id=release.subject_id)


def gate_of(release: Release, rows: QuerySet[SignOff]) -> GateStatus:
    """The gate as `rows` (the release's sign-offs, or those up to an anchor) decide it."""
    return _gate(release, list(rows.order_by("created_at", "id").values_list(*_DECISION)))


def pending_gates(limit: int = 5) -> list[GateStatus]:
    """Releases whose gate is not met yet, newest first (two queries)."""
    releases = list(Release.objects.all()[: limit * 4])
    rows = SignOff.objects.filter(
        subject_kind=SUBJECT_KIND, subject_id__in=[release.subject_id for release in releases]
    )
    decisions: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for subject, *decision in rows.order_by("created_at", "id").values_list(
        "subject_id", *_DECISION
    ):
        decisions[subject].append(tuple(decision))
    statuses = [_gate(release, decisions[release.subject_id]) for release in releases]
    return [status for status in statuses if not status.met][:limit]


_DECISION = ("reviewer_name", "reviewer_role", "decision")


def _gate(release: Release, decisions: list[tuple[str, str, str]]) -> GateStatus:
    """`decisions`: (reviewer, their roles, decision) of the release, oldest first."""
    latest_by_role: dict[str, str] = {}
    latest_by_reviewer: dict[str, tuple[str, tuple[str, ...]]] = {}
    for reviewer, role_names, decision in decisions:
        roles = tuple(role_names.split(", "))
        for role in roles:
            latest_by_role[role] = decision
        latest_by_reviewer[reviewer] = (decision, roles)
    required = tuple(release.required_roles)
    # A role counts when its latest decision is an approval and a reviewer of its
    # own approved: one person in two groups signs for one role, not two.
    open_roles = [r for r in required if latest_by_role.get(r) == SignOffDecision.APPROVE]
    approvers = {
        name: set(roles) & set(open_roles)
        for name, (decision, roles) in latest_by_reviewer.items()
        if decision == SignOffDecision.APPROVE
    }
    signed = _distinct_signers(open_roles, approvers)
    approved = tuple(r for r in required if r in signed)
    return GateStatus(release, approved, tuple(r for r in required if r not in approved))


def _distinct_signers(roles: list[str], approvers: dict[str, set[str]]) -> set[str]:
    """The roles that can each be matched to a different approver holding them
    (augmenting paths; a gate has a handful of roles and reviewers)."""
    role_of: dict[str, str] = {}  # approver's name -> the role they sign for

    def assign(role: str, tried: set[str]) -> bool:
        for name, holds in approvers.items():
            if role in holds and name not in tried:
                tried.add(name)
                if name not in role_of or assign(role_of[name], tried):
                    role_of[name] = role
                    return True
        return False

    for role in roles:
        assign(role, set())
    return set(role_of.values())


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
