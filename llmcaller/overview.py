"""The admin index's overview: what an operator or QA wants at a glance.

Provider health (with each provider's latency over the last day as a sparkline),
the last hour's calls and error rate, the trail's last verification, what awaits
review, and links to the routing preview and the API docs. It lives here, at the
top of the dependency chain, because it reads providers and audit alike.

What awaits review comes from the panels registered in `audit.review` by the
apps that own the data (routing: configuration versions pending review; audit:
release gates not met, pilots not closed); with nothing waiting the overview
says so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from audit.charts import sparkline
from audit.review import ReviewItem, ReviewPanel, register_review_panel, review_panels

__all__ = ["ReviewItem", "ReviewPanel", "overview_context", "register_review_panel"]
from audit.selectors import last_verification, latency_by_hour, recent_calls
from providers.models import Provider


def overview_context(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    calls, failed = recent_calls(since=now - timedelta(hours=1))
    return {
        "providers": _provider_health(now),
        "calls": calls,
        "failed": failed,
        "error_rate": round(100 * failed / calls, 1) if calls else None,
        "last_verification": last_verification(),
        "review_panels": review_panels(request),
    }


def _provider_health(now: Any) -> list[dict[str, Any]]:
    latency = latency_by_hour(now=now)
    return [
        {
            "provider": provider,
            "sparkline": sparkline(
                latency.get(provider.key, [None] * 24),
                title=f"{provider.key}: mean latency per hour, last 24 hours",
            ),
            "has_calls": provider.key in latency,
        }
        for provider in Provider.objects.order_by("-enabled", "key")
    ]
