"""Sign-offs on pilots and UAT runs: a reviewer's decision, final once written.

`sign_pilot` records a decision on a pilot (subject kind "pilot") and may cite
one of the pilot's UAT runs as evidence, written into the evidence list as
`uat_run:<id>` (`UAT_RUN_REF`), a reference an evidence pack resolves to the
run itself. `sign_uat_run` records a decision on one run (subject kind
"uat_run"). Who may sign: `audit.sign_off` (QA, assessors, operations) signs
any subject; `audit.sign_off_release` (product) signs releases and pilots.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db.models import QuerySet

from audit.models import Pilot, SignOff, UatRun
from audit.roles import SIGN_OFF, SIGN_OFF_RELEASE, reviewer_role
from audit.services import record_sign_off

UAT_RUN_REF = "uat_run:{}"
_UAT_RUN_REF = re.compile(r"uat_run:(\d+)")


class SignOffRefused(Exception):
    """The reviewer may not sign this subject, or cited evidence it does not have."""


def may_sign_pilot(user: object) -> bool:
    return user.has_perm(SIGN_OFF) or user.has_perm(SIGN_OFF_RELEASE)


def may_sign_uat_run(user: object) -> bool:
    return user.has_perm(SIGN_OFF)


def sign_pilot(
    *, pilot: Pilot, reviewer: object, decision: str, notes: str = "",
    evidence: Sequence[str] = (), uat_run: UatRun | None = None,
) -> SignOff:  # fmt: skip
    if not may_sign_pilot(reviewer):
        raise SignOffRefused("Your role may not sign off pilots.")
    if uat_run is not None and uat_run.pilot_id != pilot.pk:
        raise SignOffRefused(f"UAT run {uat_run.pk} is not one of {pilot}'s runs.")
    cited = [UAT_RUN_REF.format(uat_run.pk)] if uat_run is not None else []
    return record_sign_off(
        subject_kind=Pilot.SUBJECT_KIND, subject_id=pilot.subject_id,
        subject_label=f"pilot {pilot.name}", decision=decision,
        reviewer=reviewer.get_username(), reviewer_role=reviewer_role(reviewer),
        notes=notes, evidence=[*cited, *evidence],
    )  # fmt: skip


def sign_uat_run(
    *, run: UatRun, reviewer: object, decision: str, notes: str = "",
    evidence: Sequence[str] = (),
) -> SignOff:  # fmt: skip
    if not may_sign_uat_run(reviewer):
        raise SignOffRefused("Your role may not sign off UAT runs.")
    return record_sign_off(
        subject_kind=UatRun.SUBJECT_KIND, subject_id=run.subject_id,
        subject_label=f"UAT run {run.pk} ({run.caller_tool})", decision=decision,
        reviewer=reviewer.get_username(), reviewer_role=reviewer_role(reviewer),
        notes=notes, evidence=evidence,
    )  # fmt: skip


def sign_offs_on(kind: str, subject_ids: Sequence[str]) -> QuerySet[SignOff]:
    return SignOff.objects.filter(subject_kind=kind, subject_id__in=list(subject_ids))


def cited_uat_runs(evidence: Sequence[str]) -> list[int]:
    """The ids of the UAT runs an evidence list cites as `uat_run:<id>`."""
    return [int(m[1]) for link in evidence if (m := _UAT_RUN_REF.fullmatch(link.strip()))]
