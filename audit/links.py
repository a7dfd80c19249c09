"""Links from a figure to the call records behind it: the call-record list,
filtered by the figure's time range and its group (provider, model, client,
error class, strategy, failed or not), through filters the list already offers."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse


def records_url(*, start: datetime, end: datetime, **filters: str) -> str:
    params = {"started_at__gte": start.isoformat(), "started_at__lt": end.isoformat(), **filters}
    return f"{reverse('admin:audit_callrecord_changelist')}?{urlencode(params)}"
