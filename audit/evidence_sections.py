"""The sections of an evidence pack, built from the database within bounds.

`Bounds` fixes what a pack covers, so the same sections can be built again
later: call records up to the anchor's seq, sign-offs whose trail entry is at
or before the anchor's trail seq, UAT runs up to the highest id at export, and
the time a pilot still open was counted until. Export takes the bounds from the
database as it is; `audit.evidence_check` takes them from the pack.

Configuration versions belong to routing, which audit does not import: routing
registers how one is described (`provide_configuration`, from its `ready()`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from audit.models import CallRecord, Pilot, Release, SignOff, TrailEntry, UatRun
from audit.pilot_sign_offs import cited_uat_runs
from audit.pilots import pilot_records, pilot_window, summarize_calls
from audit.releases import SUBJECT_KIND as RELEASE_KIND
from audit.releases import gate_of

CONFIG_VERSION_KIND = "config_version"  # routing.versions.SUBJECT_KIND, named not imported
Describe = Callable[[int | None], dict[str, Any] | None]
_SOURCES: dict[str, Describe] = {}


def provide_configuration(describe: Describe) -> None:
    """Routing hands over `describe(number or None for the active) -> dict | None`."""
    _SOURCES["configuration"] = describe


@dataclass(frozen=True)
class Bounds:
    calls_seq: int  # the anchor's call-record seq
    trail_seq: int  # the anchor's trail seq
    run_id: int  # the highest UAT run id
    until: datetime  # an open pilot's calls are counted until then
    version: int | None = None  # a release's version; a pilot's when no run names one


def pilot_sections(pilot: Pilot, bounds: Bounds) -> dict[str, Any]:
    runs = pilot.uat_runs.filter(pk__lte=bounds.run_id)
    latest = runs.exclude(config_version=None).order_by("-started_at", "-pk").first()
    number = latest.config_version if latest else bounds.version
    subjects = Q(subject_kind=Pilot.SUBJECT_KIND, subject_id=pilot.subject_id) | Q(
        subject_kind=UatRun.SUBJECT_KIND, subject_id__in=_ids(runs)
    )
    sign_offs = _sign_offs(subjects, bounds)
    start, end = pilot_window(pilot, bounds.until)
    records = pilot_records(pilot, bounds.until).filter(seq__lte=bounds.calls_seq)
    return {
        "subject": pilot.canonical_payload(),
        "sign_offs": _sign_off_section(sign_offs, bounds),
        "configuration": _configuration(number, f"UAT run {latest.pk}" if latest else
                                        "active at export"),
        "uat_runs": _run_section(runs, sign_offs, bounds),
        "calls": {
            "client": {"id": pilot.client_id, "name": pilot.client_name},
            "from": start.isoformat(), "until": end.isoformat(),
            "throughSeq": bounds.calls_seq, "byMethod": _figures(records),
        },
    }  # fmt: skip


def release_sections(release: Release, bounds: Bounds) -> dict[str, Any]:
    number = bounds.version if bounds.version is not None else release.config_version
    subject_id = f"{release.name}@{number}"
    runs = UatRun.objects.filter(config_version=number, pk__lte=bounds.run_id)
    subjects = (
        Q(subject_kind=RELEASE_KIND, subject_id=subject_id)
        | Q(subject_kind=CONFIG_VERSION_KIND, subject_id=str(number))
        | Q(subject_kind=UatRun.SUBJECT_KIND, subject_id__in=_ids(runs))
    )
    sign_offs = _sign_offs(subjects, bounds)
    records = CallRecord.objects.filter(config_version=number, seq__lte=bounds.calls_seq)
    return {
        "subject": _release_payload(release, _sign_offs(Q(subject_kind=RELEASE_KIND,
                                    subject_id=release.subject_id), bounds)),
        "sign_offs": _sign_off_section(sign_offs, bounds),
        "configuration": _configuration(number, f"release {release.name}"),
        "uat_runs": _run_section(runs, sign_offs, bounds),
        "calls": {"configVersion": number, "throughSeq": bounds.calls_seq,
                  "byMethod": _figures(records)},
    }  # fmt: skip


def _release_payload(release: Release, sign_offs: QuerySet[SignOff]) -> dict[str, Any]:
    gate = gate_of(release, sign_offs)
    return {
        "kind": RELEASE_KIND, "name": release.name,
        "targetDate": release.target_date.isoformat() if release.target_date else None,
        "notes": release.notes, "configVersion": release.config_version,
        "requiredRoles": list(release.required_roles),
        "gate": {"met": gate.met, "approved": list(gate.approved), "missing": list(gate.missing)},
    }  # fmt: skip


def _sign_offs(subjects: Q, bounds: Bounds) -> QuerySet[SignOff]:
    """The sign-offs on `subjects` the trail had by the anchor."""
    chained = TrailEntry.objects.filter(kind="sign_off", seq__lte=bounds.trail_seq)
    ids = [int(pk) for pk in chained.values_list("object_id", flat=True)]
    return SignOff.objects.filter(subjects, pk__in=ids).order_by("pk")


def _sign_off_section(sign_offs: QuerySet[SignOff], bounds: Bounds) -> dict[str, Any]:
    rows = [
        {"id": s.pk, **s.canonical_payload(), "uatRuns": cited_uat_runs(s.evidence)}
        for s in sign_offs
    ]
    return {"throughTrailSeq": bounds.trail_seq, "signOffs": rows}


def _run_section(
    runs: QuerySet[UatRun], sign_offs: QuerySet[SignOff], bounds: Bounds
) -> dict[str, Any]:
    """The runs in scope, and any other run a sign-off cites as `uat_run:<id>`."""
    cited = {pk for s in sign_offs for pk in cited_uat_runs(s.evidence)}
    every = UatRun.objects.filter(Q(pk__in=runs.values("pk")) | Q(pk__in=cited))
    payloads = [run.canonical_payload() for run in every.order_by("pk")]
    return {"throughId": bounds.run_id, "runs": payloads}


def _ids(runs: QuerySet[UatRun]) -> list[str]:
    return [str(pk) for pk in runs.values_list("pk", flat=True)]


def _configuration(number: int | None, chosen_by: str) -> dict[str, Any]:
    described = _SOURCES["configuration"](number)
    if described is None:
        return {"number": number, "chosenBy": chosen_by, "missing": True}
    return {"chosenBy": chosen_by, **described}


def _figures(records: QuerySet[CallRecord]) -> list[dict[str, Any]]:
    return [
        {**row, "mean_ms": round(float(row["mean_ms"]), 3),
         "error_rate": round(row["error_rate"], 6)}
        for row in summarize_calls(records)
    ]  # fmt: skip
