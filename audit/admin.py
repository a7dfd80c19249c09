"""The audit trail in the admin: read-only for everyone, filterable, exportable.

No one adds, changes or deletes an audit row here (not even a superuser): the
trail is written by `audit.services` and pruned by `prune_audit`. The call-record
list filters by outcome, door, method, client, provider, model and date, searches
by request id, trace id or source address, exports the filtered list as CSV, and
shows the last chain verification and the refusals counted before authentication
in its header. A record's plan and attempts are drawn with the routing preview's
own tables. The dashboard is a page over the hourly roll-ups.
Pilot findings and UAT runs are registered in `audit.pilot_admin`; the governance
rows (trail entries, configuration changes, sign-offs, releases and their gates)
in `audit.governance_admin`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe

from audit.dashboard import dashboard_context, window_named
from audit.exports import csv_response
from audit.governance_admin import ConfigChangeAdmin, ReleaseAdmin, SignOffAdmin, TrailEntryAdmin
from audit.guards import ReadOnlyAdmin
from audit.listing import EstimatedCountPaginator, RolledUpDatesChangeList, rolled_up_filter
from audit.models import (
    AuditVerification,
    CallContent,
    CallRecord,
    Dashboard,
    HourlyRollup,
    PruneCheckpoint,
    RefusalCount,
)
from audit.pilot_admin import FindingAdmin, UatRunAdmin
from audit.selectors import last_verification
from audit.types import CallOutcome
from audit.verification import run_verification

# PostgreSQL's jsonb does not keep key order, so the pages put known keys first.
_ROUTING_ORDER = (
    "capability", "strategy", "task", "taskSource", "taskReasons", "chain", "fallbackReason",
    "cacheHit", "reason", "streamedChars", "configHash",
)  # fmt: skip
_TABLED = ("candidates", "attempts")  # drawn as tables, not listed
__all__ = [
    "CallRecordAdmin", "ConfigChangeAdmin", "FindingAdmin", "ReleaseAdmin", "SignOffAdmin",
    "TrailEntryAdmin", "UatRunAdmin",
]  # fmt: skip
_OUTCOME_COLOURS = {CallOutcome.SUCCESS: "#1a7f37", CallOutcome.CLIENT_GONE: "#6e7781"}


class ConfigVersionFilter(admin.SimpleListFilter):
    """Filter by the configuration version that routed a call. The choices are the
    versions of the latest records (a DISTINCT over every record would scan the
    table, and an index on it costs every batch a page); `?config_version=N`
    filters by any version."""

    title = "configuration version"
    parameter_name = "config_version"
    RECENT = 5000

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        recent = CallRecord.objects.order_by("-started_at")[: self.RECENT]
        numbers = {n for n in recent.values_list("config_version", flat=True) if n is not None}
        return [(str(n), f"version {n}") for n in sorted(numbers, reverse=True)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[CallRecord]) -> QuerySet:
        value = self.value()
        return queryset.filter(config_version=int(value)) if value and value.isdigit() else queryset


class FailedFilter(admin.SimpleListFilter):
    """Every call that did not succeed, whatever its outcome (the dashboard's links)."""

    title, parameter_name = "failed", "failed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("1", "failed calls only")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[CallRecord]) -> QuerySet:
        if self.value() == "1":
            return queryset.exclude(outcome=CallOutcome.SUCCESS)
        return queryset


@admin.register(CallRecord)
class CallRecordAdmin(ReadOnlyAdmin):
    change_list_template = "admin/audit/callrecord/change_list.html"
    # The columns QA reads first come first, and long texts are cut (their full
    # value is the cell's tooltip), so the list fits 1280 px without scrolling.
    list_display = [
        "started_at", "outcome_badge", "error_class", "latency_ms", "total_tokens", "door",
        "method", "client_name", "short_request_id", "route",
    ]  # fmt: skip
    # Filters, count and date drill-down read no more than a page's worth of
    # records: see audit.listing.
    list_filter = [
        "outcome", FailedFilter, "door", "method",
        rolled_up_filter("error_class", "error class"),
        rolled_up_filter("strategy", "routing strategy"),
        rolled_up_filter("client_name", "client"),
        rolled_up_filter("provider", "provider"),
        rolled_up_filter("model", "model"),
        ConfigVersionFilter, "usage_estimated", "started_at",
    ]  # fmt: skip
    # Exact and case-sensitive: "=field" would compare UPPER(field), which no index serves.
    search_fields = ["request_id__exact", "trace_id__exact", "source_address__exact"]
    date_hierarchy = "started_at"
    show_full_result_count = False  # a COUNT(*) over millions of rows per page view
    paginator = EstimatedCountPaginator
    actions = ["export_csv"]
    fieldsets = [
        ("Call", {"fields": ["request_id", "trace_id", "client", "caller_tool", "method", "door",
                             "source_address", "token_prefix", "started_at", "recorded_at"]}),
        ("Outcome", {"fields": ["outcome", "error_class", "message", "http_status", "latency_ms",
                                "ttft_ms", "input_tokens", "output_tokens", "usage_estimated",
                                "stored_text"]}),
        ("Route", {"fields": ["provider", "model", "strategy", "routing_decision",
                              "candidate_table", "attempt_table", "config_version",
                              "config_hash"]}),
        ("Hash chain", {"fields": ["seq", "prev_hash", "row_hash"]}),
    ]  # fmt: skip

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="audit_callrecord_export",
        )
        return [export, *super().get_urls()]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RolledUpDatesChangeList

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        query = request.GET.urlencode()
        context = {
            "last_verification": last_verification(),
            "refusals": recent_refusals(),
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

    @admin.action(description="Export selected call records as CSV", permissions=["view"])
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

    @admin.display(description="request id", ordering="request_id")
    def short_request_id(self, record: CallRecord) -> str:
        return _cut(record.request_id, 18)

    @admin.display(description="route", ordering="provider")
    def route(self, record: CallRecord) -> str:
        return _cut(f"{record.provider}/{record.model}" if record.provider else "", 28)

    @admin.display(description="client")
    def client(self, record: CallRecord) -> str:
        return (
            f"{record.client_name} (id {record.client_id})"
            if record.client_id
            else record.client_name
        )

    @admin.display(description="routing decision")
    def routing_decision(self, record: CallRecord) -> str:
        routing = record.routing
        keys = _ordered((k for k in routing if k not in _TABLED), _ROUTING_ORDER)
        return _definition_list({key: routing[key] for key in keys}) or "—"

    @admin.display(description="candidates considered")
    def candidate_table(self, record: CallRecord) -> SafeString:
        candidates = record.routing.get("candidates") or []
        return _rendered("admin/routing/_candidates.html", candidates=candidates,
                         table_id="record-considered")  # fmt: skip

    @admin.display(description="attempts")
    def attempt_table(self, record: CallRecord) -> SafeString:
        return _rendered("admin/routing/_attempts.html", attempts=record.attempts)

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


def _rendered(template: str, **context: Any) -> SafeString:
    # The template escapes every value; the markup it returns is safe as a whole.
    return mark_safe(render_to_string(template, context))  # noqa: S308


def _cut(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1])


def recent_refusals(hours: int = 1) -> dict[str, Any]:
    """Refusals before authentication in the last `hours`: one indexed range read."""
    since = timezone.now() - timedelta(hours=hours)
    rows = RefusalCount.objects.filter(minute__gte=since)
    totals = rows.aggregate(refused=Sum("count"), sources=Count("source_address", distinct=True))
    reasons = rows.values("reason").annotate(n=Sum("count")).order_by("-n")
    return {"hours": hours, "since": since, "total": totals["refused"] or 0,
            "sources": totals["sources"], "reasons": list(reasons)}  # fmt: skip


def _ordered(keys: Iterable[str], preferred: tuple[str, ...]) -> list[str]:
    present = set(keys)
    return [k for k in preferred if k in present] + sorted(present.difference(preferred))


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return "" if value is None else str(value)


@admin.register(RefusalCount)
class RefusalCountAdmin(ReadOnlyAdmin):
    """Refusals before authentication, counted per minute, source, reason and token
    prefix; the call records hold every call of a known client."""

    list_display = ["minute", "source_address", "reason", "token_prefix", "method", "count"]
    list_filter = ["reason", "method", "minute"]
    search_fields = ["=source_address", "=token_prefix"]
    date_hierarchy = "minute"
    show_full_result_count = False


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
    list_display = ["started_at", "actor", "ok", "records_checked", "from_seq", "head_seq"]
    list_filter = ["ok"]

    def get_urls(self) -> list[URLPattern]:
        verify = path(
            "verify/",
            self.admin_site.admin_view(self.verify_now_view),
            name="audit_verify_now",
        )
        return [verify, *super().get_urls()]

    def verify_now_view(self, request: HttpRequest) -> HttpResponse:
        """QA's "Verify the trail now": checks the chain and records who asked."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        check = run_verification(actor=f"admin:{request.user.get_username()}")
        if check.ok:
            note = f"The trail is intact: {check.records_checked} records checked."
            self.message_user(request, note, messages.SUCCESS)
        else:
            note = f"The trail has {len(check.problems)} problem(s): see the verification."
            self.message_user(request, note, messages.ERROR)
        back = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
        return HttpResponseRedirect(back if back and safe else reverse("admin:index"))


@admin.register(PruneCheckpoint)
class PruneCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "cutoff", "seq", "records_deleted", "contents_deleted"]


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyAdmin):
    """The dashboard page stands in for the changelist of the `Dashboard` proxy, so
    it is listed on the admin index and guarded by its view permission."""

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **dashboard_context(window=window_named(request.GET.get("window"))),
            "title": "Audit dashboard",
            "opts": self.model._meta,
            "last_verification": last_verification(),
        }
        return TemplateResponse(request, "admin/audit/dashboard.html", context)
