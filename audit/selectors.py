"""Reading the audit trail: what other apps and the admin may ask of it.

`usage_for(client, day=…|month=…)` sums a client's calls and tokens from the
roll-ups plus the not-yet-rolled tail. `budget_status` / `abudget_status` answer
"may this client call now?" from cached counters (see `audit.budgets` for the
interface the API views call before routing). `last_verification()` is the most
recent chain check, for the admin.
"""

from __future__ import annotations

from audit.budgets import (
    Reservation,
    abudget_status,
    arelease_budget,
    areserve_budget,
    budget_status,
    release_budget,
    reserve_budget,
)
from audit.models import AuditVerification
from audit.usage import usage_for

__all__ = [
    "Reservation",
    "abudget_status",
    "arelease_budget",
    "areserve_budget",
    "budget_status",
    "last_verification",
    "release_budget",
    "reserve_budget",
    "usage_for",
]


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-started_at").first()
