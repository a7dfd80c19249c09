"""CSV of a pilot backlog: each finding, then its follow-ups, one row each.

Columns name the pilot, the kind (finding or follow-up), the finding a
follow-up settles, owner, severity, status, due date, and when and by whom it
was recorded (ISO 8601 with the UTC offset). Cells a spreadsheet would run as
a formula are prefixed with an apostrophe, as in the call-record export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse

from audit.exports import _cell
from audit.models import Finding

COLUMNS = (
    "pilot", "kind", "id", "finding_id", "title", "owner", "severity", "status", "due_on",
    "created_at", "created_by",
)  # fmt: skip


def backlog_rows(findings: QuerySet[Finding]) -> Iterable[tuple[Any, ...]]:
    findings = findings.select_related("pilot").prefetch_related("follow_ups")
    for finding in findings.order_by("pilot__name", "pk"):
        yield _row(finding.pilot.name, "finding", finding, "")
        for follow_up in sorted(finding.follow_ups.all(), key=lambda f: f.pk):
            yield _row(finding.pilot.name, "follow-up", follow_up, finding.pk)


def _row(pilot: str, kind: str, entry: Any, finding_id: Any) -> tuple[Any, ...]:
    due = entry.due_on.isoformat() if entry.due_on else ""
    return (
        pilot, kind, entry.pk, finding_id, entry.title, entry.owner, entry.severity,
        entry.status, due, entry.created_at.isoformat(), entry.created_by,
    )  # fmt: skip


def backlog_csv(findings: QuerySet[Finding]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([_cell(v) for v in row] for row in backlog_rows(findings))
    return out.getvalue()


def backlog_csv_response(findings: QuerySet[Finding]) -> HttpResponse:
    response = HttpResponse(backlog_csv(findings), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pilot-backlog.csv"'
    return response
