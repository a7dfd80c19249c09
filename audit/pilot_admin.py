"""The pilot backlog and UAT runs in the admin.

Findings carry their follow-ups inline; QA records and updates both (see
`audit.roles`), and the list exports the selected findings with their
follow-ups as CSV. UAT runs are read-only evidence: written once by
`run_uat --pilot` or the pilot page's "Run UAT", never changed here; a
reviewer with `audit.sign_off` records a decision on one below its page. The pilot
page itself is registered by `llmcaller.pilot_admin`, because choosing a client
and running UAT need the client registry, which `audit` does not import.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from audit.backlog_export import backlog_csv_response
from audit.guards import NoEditsAdmin
from audit.models import Finding, FollowUp, UatCheck, UatRun
from audit.pilot_sign_offs import SignOffRefused, may_sign_uat_run, sign_offs_on, sign_uat_run


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 1
    fields = ["title", "owner", "severity", "status", "due_on"]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["title", "pilot", "severity", "status", "owner", "due_on", "follow_up_count"]
    list_filter = ["pilot", "severity", "status"]
    search_fields = ["title", "owner"]
    fields = ["pilot", "title", "details", "owner", "severity", "status", "due_on", "created_by"]
    readonly_fields = ["created_by"]
    inlines = [FollowUpInline]
    actions = ["export_csv"]

    @admin.display(description="follow-ups")
    def follow_up_count(self, finding: Finding) -> int:
        return finding.follow_ups.count()

    def save_model(self, request: HttpRequest, obj: Finding, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for follow_up in formset.save(commit=False):
            if not follow_up.pk:
                follow_up.created_by = request.user.get_username()
            follow_up.save()
        for gone in formset.deleted_objects:
            gone.delete()

    @admin.action(description="Export selected findings and their follow-ups as CSV",
                  permissions=["view"])  # fmt: skip
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Finding]) -> HttpResponse:
        return backlog_csv_response(queryset)


class UatCheckInline(admin.TabularInline):
    model = UatCheck
    extra = 0
    can_delete = False
    fields = ["position", "name", "status", "detail", "elapsed_ms", "request_ids"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UatRun)
class UatRunAdmin(NoEditsAdmin, admin.ModelAdmin):
    list_display = ["started_at", "pilot", "phase", "trigger", "actor", "passed",
                    "checks_passed", "checks_failed", "checks_skipped", "config_hash"]  # fmt: skip
    list_filter = ["passed", "trigger", "pilot"]
    fields = ["pilot", "phase", "trigger", "actor", "gateway_url", "client_name", "caller_tool",
              "started_at", "finished_at", "passed", "config_version", "config_hash",
              "faults_enabled", "fault_table", "sign_offs"]  # fmt: skip
    readonly_fields = fields
    inlines = [UatCheckInline]

    def get_urls(self) -> list[URLPattern]:
        sign = self.admin_site.admin_view(require_POST(self.sign_view))
        return [path("<int:pk>/sign/", sign, name="audit_uatrun_sign"), *super().get_urls()]

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kw: Any):
        context["can_sign"] = may_sign_uat_run(request.user)
        return super().render_change_form(request, context, *args, **kw)

    def sign_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Needs `audit.sign_off`; the decision is final."""
        if not may_sign_uat_run(request.user):
            raise PermissionDenied
        run = UatRun.objects.filter(pk=pk).first()
        if run is None:
            raise Http404
        links = [line.strip() for line in request.POST.get("evidence", "").splitlines()]
        try:
            sign_uat_run(run=run, reviewer=request.user, decision=request.POST.get("decision", ""),
                         notes=request.POST.get("notes", ""), evidence=links)  # fmt: skip
        except (SignOffRefused, ValueError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:audit_uatrun_change", args=[pk]))

    @admin.display(description="sign-offs")
    def sign_offs(self, run: UatRun) -> str:
        return format_html_join("", '<div class="uat-sign-off">{} · {} ({}) · <strong>{}</strong>'
                                " · {}</div>", (
            (f"{s.created_at:%Y-%m-%d %H:%M}", s.reviewer_name, s.reviewer_role,
             s.get_decision_display(), s.notes or "—")
            for s in sign_offs_on(UatRun.SUBJECT_KIND, [run.subject_id])
        )) or "None yet."  # fmt: skip

    @admin.display(description="active fault rules and the gateway's answers")
    def fault_table(self, run: UatRun) -> str:
        return fault_rules_html(run.fault_rules) or "—"


def fault_rules_html(rules: list[dict[str, Any]]) -> str:
    rows = [
        (rule["name"], rule["kind"], _where(rule), answer["check"], answer["httpStatus"],
         answer["error"] or "—", answer["outcome"], answer["strategy"], answer["answeredBy"])
        for rule in rules
        for answer in rule.get("answers") or [_UNMET]
    ]  # fmt: skip
    if not rows:
        return ""
    head = format_html_join("", "<th>{}</th>", ((h,) for h in _FAULT_COLUMNS))
    body = format_html_join("", "<tr>" + "<td>{}</td>" * len(_FAULT_COLUMNS) + "</tr>", rows)
    return format_html('<table class="uat-faults"><tr>{}</tr>{}</table>', head, body)


_FAULT_COLUMNS = ("rule", "kind", "target", "check", "HTTP", "error", "outcome", "strategy",
                  "answered by")  # fmt: skip
_UNMET = {"check": "(no UAT call met it)", "httpStatus": "", "error": "", "outcome": "",
          "strategy": "", "answeredBy": ""}  # fmt: skip


def _where(rule: dict[str, Any]) -> str:
    return f"{rule['provider']}/{rule['model']}" if rule.get("model") else rule["provider"]
