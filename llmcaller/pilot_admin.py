"""The pilot page: an engagement, its contacts and checklist, its calls, its UAT,
its sign-offs.

Registered here rather than in `audit` (where the rows live) because the form
chooses the pilot's client from the client registry and "Run UAT" issues a
token and calls the gateway, neither of which `audit` may import. Ticking a
checklist item goes through `audit.pilots.tick` / `untick` (who and when);
"Run UAT" needs the `audit.run_uat` permission and runs `run_uat --pilot`'s
checks against this gateway (`LLMCALLER_UAT_URL`, else the page's own origin).
A reviewer records a decision below the page (`audit.pilot_sign_offs`, which
needs `audit.sign_off` or `audit.sign_off_release`), citing one of the pilot's
UAT runs if they choose; the list exports a pilot's evidence pack.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from audit.evidence_admin import evidence_download
from audit.guards import GuardedActionsAdmin
from audit.models import ChecklistItem, Pilot, PilotContact, SignOff
from audit.pilot_sign_offs import (
    SignOffRefused,
    cited_uat_runs,
    may_sign_pilot,
    sign_offs_on,
    sign_pilot,
)
from audit.pilots import pilot_calls, pilot_window, seed_checklist, tick, untick
from llmcaller.models import Client
from llmcaller.uat import summary
from llmcaller.uat_evidence import PilotClientMissing, pilot_token, run_pilot_uat


class PilotForm(forms.ModelForm):
    client = forms.ModelChoiceField(Client.objects.all(), help_text="The calling tool's client.")

    class Meta:
        model = Pilot
        fields = ["name", "client", "caller_tool", "owner", "kickoff", "ends_on", "status",
                  "notes"]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["client"].initial = self.instance.client_id

    def save(self, commit: bool = True) -> Pilot:
        client = self.cleaned_data["client"]
        self.instance.client_id, self.instance.client_name = client.pk, client.tool_id
        return super().save(commit)


class ChecklistItemForm(forms.ModelForm):
    done = forms.BooleanField(required=False)

    class Meta:
        model = ChecklistItem
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["done"].initial = self.instance.done_at is not None


class ChecklistInline(admin.TabularInline):
    model = ChecklistItem
    form = ChecklistItemForm
    extra = 0
    can_delete = False
    fields = ["phase", "label", "done", "done_by", "done_at"]
    readonly_fields = ["phase", "label", "done_by", "done_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # seeded per phase when the pilot is created


class ContactInline(admin.TabularInline):
    model = PilotContact
    extra = 1


@admin.register(Pilot)
class PilotAdmin(GuardedActionsAdmin, admin.ModelAdmin):
    form = PilotForm
    change_form_template = "admin/llmcaller/pilot_change_form.html"
    list_display = ["name", "client_name", "caller_tool", "owner", "kickoff", "ends_on", "status"]
    list_filter = ["status"]
    search_fields = ["name", "client_name", "caller_tool", "owner"]
    inlines = [ContactInline, ChecklistInline]
    readonly_fields = ["calls", "uat_runs", "findings", "sign_offs"]
    actions = ["export_evidence"]

    def get_fieldsets(self, request: HttpRequest, obj: Pilot | None = None) -> list:
        engagement = ("Engagement", {"fields": PilotForm.Meta.fields})
        if obj is None:
            return [engagement]
        rest = ("Calls, UAT, findings and sign-offs", {"fields": self.readonly_fields})
        return [engagement, rest]

    def save_model(self, request: HttpRequest, obj: Pilot, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            seed_checklist(obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ChecklistItem:
            super().save_formset(request, form, formset, change)
            return
        actor = request.user.get_username()
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for item_form in formset.forms:
            if "done" in item_form.changed_data:
                mark = tick if item_form.cleaned_data["done"] else untick
                mark(item_form.instance, actor=actor)
                formset.changed_objects.append((item_form.instance, ["done"]))  # the history

    def get_urls(self) -> list[URLPattern]:
        run = path(
            "<path:object_id>/run-uat/",
            self.admin_site.admin_view(require_POST(self.run_uat_view)),
            name="audit_pilot_run_uat",
        )
        sign = path(
            "<path:object_id>/sign/",
            self.admin_site.admin_view(require_POST(self.sign_view)),
            name="audit_pilot_sign",
        )
        return [run, sign, *super().get_urls()]

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kw: Any):
        context["can_run_uat"] = request.user.has_perm("audit.run_uat")
        context["can_sign"] = may_sign_pilot(request.user)
        if kw.get("obj") is not None:
            context["sign_runs"] = kw["obj"].uat_runs.order_by("-started_at")[:20]
        return super().render_change_form(request, context, *args, **kw)

    def sign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Needs `audit.sign_off` or `audit.sign_off_release`; the decision is final."""
        if not may_sign_pilot(request.user):
            raise PermissionDenied
        pilot = self.get_object(request, object_id)
        if pilot is None:
            raise Http404
        run_id = request.POST.get("uat_run", "")
        run = pilot.uat_runs.filter(pk=run_id).first() if run_id.isdigit() else None
        links = [line.strip() for line in request.POST.get("evidence", "").splitlines()]
        try:
            sign_pilot(
                pilot=pilot, reviewer=request.user, decision=request.POST.get("decision", ""),
                notes=request.POST.get("notes", ""), evidence=links, uat_run=run,
            )  # fmt: skip
        except (SignOffRefused, ValueError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"Your sign-off on {pilot} is recorded.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:audit_pilot_change", args=[pilot.pk]))

    @admin.action(description="Export the evidence pack (JSON)", permissions=["view"])
    def export_evidence(self, request: HttpRequest, queryset: QuerySet[Pilot]) -> Any:
        return evidence_download(self, request, queryset, "pilot")

    def run_uat_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Needs `audit.run_uat`: it issues a short-lived token and spends calls."""
        if not request.user.has_perm("audit.run_uat"):
            raise PermissionDenied
        pilot = self.get_object(request, object_id)
        if pilot is None:
            raise Http404
        url = settings.LLMCALLER_UAT_URL or request.build_absolute_uri("/")
        try:
            with pilot_token(pilot) as token:
                run, results = run_pilot_uat(
                    pilot, url=url, token=token, trigger="admin",
                    actor=request.user.get_username(),
                )  # fmt: skip
        except PilotClientMissing as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            level = messages.SUCCESS if run.passed else messages.ERROR
            self.message_user(request, f"UAT run {run.pk}: {summary(results)}.", level)
        return HttpResponseRedirect(reverse("admin:audit_pilot_change", args=[pilot.pk]))

    @admin.display(description="calls between its dates")
    def calls(self, pilot: Pilot) -> str:
        now = timezone.now()
        rows = pilot_calls(pilot, now=now)
        start, end = pilot_window(pilot, now)
        link = reverse("admin:audit_callrecord_changelist") + (
            f"?client_name={pilot.client_name}&started_at__gte={start:%Y-%m-%d}"
        )
        if not rows:
            return format_html('No calls yet (<a href="{}">call records</a>).', link)
        body = format_html_join("", "<tr>" + "<td>{}</td>" * 7 + "</tr>", (
            (r["method"], r["calls"], r["errors"], f"{r['error_rate']:.1%}",
             f"{r['mean_ms']:.0f}", r["p95_ms"], r["max_ms"]) for r in rows
        ))  # fmt: skip
        return format_html(
            '<table class="pilot-calls"><tr><th>method</th><th>calls</th><th>errors</th>'
            "<th>error rate</th><th>mean ms</th><th>p95 ms</th><th>max ms</th></tr>{}</table>"
            '<p>{} to {} UTC · <a href="{}">call records</a></p>',
            body, f"{start:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}", link,
        )  # fmt: skip

    @admin.display(description="UAT runs")
    def uat_runs(self, pilot: Pilot) -> str:
        runs = pilot.uat_runs.order_by("-started_at")[:20]
        return format_html_join("", '<div class="pilot-uat-run"><a href="{}">{}</a> · {} · '
                                "{} passed, {} failed, {} skipped · {} fault rule(s)</div>", (
            (reverse("admin:audit_uatrun_change", args=[r.pk]), r, r.phase or "—",
             r.checks_passed, r.checks_failed, r.checks_skipped, len(r.fault_rules))
            for r in runs
        )) or "None yet."  # fmt: skip

    @admin.display(description="findings")
    def findings(self, pilot: Pilot) -> str:
        return format_html_join("", '<div><a href="{}">{}</a> · {} · {} · {}</div>', (
            (reverse("admin:audit_finding_change", args=[f.pk]), f.title, f.severity,
             f.get_status_display(), f.owner)
            for f in pilot.findings.all()
        )) or "None yet."  # fmt: skip

    @admin.display(description="sign-offs")
    def sign_offs(self, pilot: Pilot) -> str:
        rows = sign_offs_on(Pilot.SUBJECT_KIND, [pilot.subject_id])
        return format_html_join("", '<div class="pilot-sign-off">{} · {} ({}) · <strong>{}</strong>'
                                " · {} · evidence: {}</div>", (
            (f"{s.created_at:%Y-%m-%d %H:%M}", s.reviewer_name, s.reviewer_role,
             s.get_decision_display(), s.notes or "—", _evidence_links(s))
            for s in rows
        )) or "None yet."  # fmt: skip


def _evidence_links(sign_off: SignOff) -> str:
    parts = [_evidence_link(link) for link in sign_off.evidence]
    return format_html_join(" ", "{}", ((part,) for part in parts)) if parts else "—"


def _evidence_link(link: str) -> str:
    """A cited UAT run (`uat_run:<id>`) links to its page, a web address to itself."""
    runs = cited_uat_runs([link])
    if runs:
        url = reverse("admin:audit_uatrun_change", args=runs)
    elif link.startswith(("https://", "http://")):
        url = link
    else:
        return link
    return format_html('<a href="{}">{}</a>', url, link)
