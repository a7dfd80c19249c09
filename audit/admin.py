"""The audit trail in the admin: read-only for everyone, filterable, exportable.

No one adds, changes or deletes an audit row here (not even a superuser): the
trail is written by `audit.services` and pruned by `prune_audit`. The call-record
list filters by client, provider, model, outcome, method and date, searches by
request or trace id, exports the filtered list as CSV, and shows the last chain
verification in its header. The dashboard is a page over the hourly roll-ups.
Pilot findings and UAT runs are registered in `audit.pilot_admin`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from audit.dashboard import dashboard_context
from audit.exports import csv_response
from audit.models import (
    AuditVerification,
    CallContent,
    CallRecord,
    ConfigChange,
    Dashboard,
    HourlyRollup,
    PruneCheckpoint,
)
from audit.pilot_admin import FindingAdmin, UatRunAdmin
from audit.selectors import last_verification
from audit.types import CallOutcome

# PostgreSQL's jsonb does not keep key order, so the pages put known keys first.
_ROUTING_ORDER = ("capability", "task", "strategy", "candidates", "chosen", "reason")
_ATTEMPT_ORDER = ("provider", "model", "outcome", "error_class", "status", "latency_ms", "reason")
__all__ = ["CallRecordAdmin", "FindingAdmin", "UatRunAdmin"]
_OUTCOME_COLOURS = {CallOutcome.SUCCESS: "#1a7f37", CallOutcome.CLIENT_GONE: "#6e7781"}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CallRecord)
class CallRecordAdmin(ReadOnlyAdmin):
    change_list_template = "admin/audit/callrecord/change_list.html"
    list_display = [
        "started_at", "request_id", "client_name", "method", "provider", "model",
        "strategy", "outcome_badge", "error_class", "latency_ms", "total_tokens",
    ]  # fmt: skip
    list_filter = ["client_name", "provider", "model", "outcome", "method", "started_at"]
    search_fields = ["=request_id", "=trace_id"]  # exact: both are indexed
    date_hierarchy = "started_at"
    show_full_result_count = False  # a COUNT(*) over millions of rows per page view
    actions = ["export_csv"]
    fieldsets = [
        ("Call", {"fields": ["request_id", "trace_id", "client", "caller_tool", "method",
                             "started_at", "recorded_at"]}),
        ("Route", {"fields": ["provider", "model", "strategy", "routing_decision",
                              "attempt_table", "config_version", "config_hash"]}),
        ("Outcome", {"fields": ["outcome", "error_class", "http_status", "latency_ms",
                                "ttft_ms", "input_tokens", "output_tokens", "stored_text"]}),
        ("Hash chain", {"fields": ["seq", "prev_hash", "row_hash"]}),
    ]  # fmt: skip

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="audit_callrecord_export",
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        query = request.GET.urlencode()
        context = {
            "last_verification": last_verification(),
            "export_url": reverse("admin:audit_callrecord_export") + (f"?{query}" if query else ""),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter.")
        return csv_response(request, changelist.get_queryset(request))

    @admin.action(description="Export selected call records as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[CallRecord]) -> HttpResponse:
        return csv_response(request, queryset)

    @admin.display(description="outcome", ordering="outcome")
    def outcome_badge(self, record: CallRecord) -> str:
        colour = _OUTCOME_COLOURS.get(record.outcome, "#cf222e")
        return format_html(
            '<strong class="outcome outcome-{}" style="color:{}">{}</strong>',
            record.outcome, colour, record.get_outcome_display(),
        )  # fmt: skip

    @admin.display(description="tokens")
    def total_tokens(self, record: CallRecord) -> int:
        return record.total_tokens

    @admin.display(description="client")
    def client(self, record: CallRecord) -> str:
        return (
            f"{record.client_name} (id {record.client_id})"
            if record.client_id
            else record.client_name
        )

    @admin.display(description="routing decision")
    def routing_decision(self, record: CallRecord) -> str:
        return _definition_list(record.routing) or "—"

    @admin.display(description="attempts")
    def attempt_table(self, record: CallRecord) -> str:
        return _attempt_table(record.attempts) or "—"

    @admin.display(description="stored text")
    def stored_text(self, record: CallRecord) -> str:
        content = CallContent.objects.filter(pk=record.pk).only("pk", "expires_at").first()
        if content is None:
            return "not kept (the client did not opt in, or it expired)"
        url = reverse("admin:audit_callcontent_change", args=[record.pk])
        return format_html('<a href="{}">prompt and response</a> (kept until {:%Y-%m-%d})',
                           url, content.expires_at)  # fmt: skip


def _definition_list(values: dict[str, Any]) -> str:
    if not values:
        return ""
    items = format_html_join(
        "", "<dt>{}</dt><dd>{}</dd>", ((k, _plain(v)) for k, v in values.items())
    )
    return format_html('<dl class="audit-routing">{}</dl>', items)


def _attempt_table(attempts: list[dict[str, Any]]) -> str:
    if not attempts:
        return ""
    columns = _ordered({key for attempt in attempts for key in attempt}, _ATTEMPT_ORDER)
    head = _cells("th", ["#", *columns])
    rows = format_html_join(
        "",
        "<tr>{}</tr>",
        ((_cells("td", [n, *(a.get(k, "") for k in columns)]),) for n, a in enumerate(attempts, 1)),
    )
    return format_html('<table class="audit-attempts"><tr>{}</tr>{}</table>', head, rows)


def _cells(tag: str, values: list[Any]) -> str:
    return format_html_join("", f"<{tag}>{{}}</{tag}>", ((_plain(v),) for v in values))


def _ordered(keys: Iterable[str], preferred: tuple[str, ...]) -> list[str]:
    present = set(keys)
    return [k for k in preferred if k in present] + sorted(present.difference(preferred))


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return "" if value is None else str(value)


@admin.register(CallContent)
class CallContentAdmin(ReadOnlyAdmin):
    list_display = ["record", "expires_at"]
    fields = ["record", "prompt_text", "response_text", "expires_at"]


@admin.register(HourlyRollup)
class HourlyRollupAdmin(ReadOnlyAdmin):
    list_display = ["hour", "client_name", "provider", "model", "method", "outcome", "calls",
                    "errors", "input_tokens", "output_tokens"]  # fmt: skip
    list_filter = ["provider", "outcome", "method"]
    date_hierarchy = "hour"


@admin.register(AuditVerification)
class AuditVerificationAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "actor", "ok", "records_checked", "head_seq"]
    list_filter = ["ok"]


@admin.register(PruneCheckpoint)
class PruneCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "cutoff", "seq", "records_deleted", "contents_deleted"]


@admin.register(ConfigChange)
class ConfigChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_name", "action", "object_repr", "request_id"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor_name", "=request_id"]


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyAdmin):
    """The dashboard page stands in for the changelist of the `Dashboard` proxy, so
    it is listed on the admin index and guarded by its view permission."""

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **dashboard_context(days=_days(request)),
            "title": "Audit dashboard",
            "opts": self.model._meta,
            "last_verification": last_verification(),
        }
        return TemplateResponse(request, "admin/audit/dashboard.html", context)


def _days(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("days", 7)), 1), 90)
    except ValueError:
        return 7
