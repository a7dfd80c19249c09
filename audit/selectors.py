"""Reading the audit trail: what other apps and the admin may ask of it.

`usage_for(client, day=…|month=…)` sums a client's calls and tokens from the
roll-ups plus the not-yet-rolled tail. `budget_status` / `abudget_status` answer
"may this client call now?" from cached counters (see `audit.budgets` for the
interface the API views call before routing). `last_verification()` is the most
recent chain check, for the admin. `calls_for_requests(ids)` finds the call
records of given request ids (a UAT run reads how the gateway answered).
"""

from __future__ import annotations

from audit.budgets import abudget_status, budget_status
from audit.models import AuditVerification, CallRecord
from audit.usage import usage_for

__all__ = [
    "abudget_status", "budget_status", "calls_for_requests", "last_verification", "usage_for",
]  # fmt: skip


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-started_at").first()


def calls_for_requests(request_ids: list[str]) -> dict[str, CallRecord]:
    """The call record of each request id that has one (the latest, if several)."""
    records = CallRecord.objects.filter(request_id__in=request_ids).order_by("seq")
    return {record.request_id: record for record in records}
