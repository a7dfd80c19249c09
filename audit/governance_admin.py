"""The governance rows in the admin: trail entries, configuration changes and
sign-offs (read-only, as every audit row), and releases, whose page shows the
gate and takes a reviewer's sign-off and exports the release's evidence pack."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from audit.evidence_admin import evidence_download
from audit.guards import GuardedActionsAdmin, ReadOnlyAdmin
from audit.history import ConfigHistoryAdmin
from audit.models import ConfigChange, Release, SignOff, TrailEntry
from audit.releases import gate_status, sign_release
from audit.roles import SIGN_OFF, SIGN_OFF_RELEASE, reviewer_role

__all__ = ["ConfigChangeAdmin", "ReleaseAdmin", "SignOffAdmin", "TrailEntryAdmin"]


@admin.register(TrailEntry)
class TrailEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "kind", "object_id", "recorded_at", "key_id"]
    list_filter = ["kind"]
    search_fields = ["=object_id"]


@admin.register(ConfigChange)
class ConfigChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_name", "source", "action", "object_repr", "request_id"]
    list_filter = ["source", "action"]
    search_fields = ["object_repr", "actor_name", "=request_id"]


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    """Sign-offs are final: shown, filtered, never added, changed or deleted here."""

    list_display = [
        "created_at", "subject_label", "decision", "reviewer_name", "reviewer_role",
    ]  # fmt: skip
    list_filter = ["subject_kind", "decision", "reviewer_role"]
    search_fields = ["subject_label", "subject_id", "reviewer_name", "notes"]


@admin.register(Release)
class ReleaseAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    """Releases and their gates; reviewers sign off on a release's page; the list
    exports a release's evidence pack."""

    list_display = ["name", "target_date", "config_version", "gate"]
    readonly_fields = ["gate", "created_at"]
    search_fields = ["name", "notes"]
    change_form_template = "admin/audit/release/change_form.html"
    actions = ["export_evidence"]

    @admin.action(description="Export the evidence pack (JSON)", permissions=["view"])
    def export_evidence(self, request: HttpRequest, queryset: QuerySet[Release]) -> Any:
        return evidence_download(self, request, queryset, "release")

    def get_urls(self) -> list[URLPattern]:
        sign = self.admin_site.admin_view(self.sign_view)
        return [path("<int:pk>/sign/", sign, name="audit_release_sign"), *super().get_urls()]

    @admin.display(description="gate")
    def gate(self, release: Release) -> str:
        if release.pk is None:
            return "—"
        status = gate_status(release)
        if status.met:
            return f"met for configuration version {release.config_version}"
        return f"not met for version {release.config_version}: waiting for " + ", ".join(
            status.missing
        )

    def sign_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        release = Release.objects.filter(pk=pk).first()
        if request.method != "POST" or release is None or not self.has_view_permission(request):
            raise PermissionDenied
        try:
            sign_release_from_form(release, request)
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:audit_release_change", args=[pk]))


def sign_release_from_form(release: Release, request: HttpRequest) -> None:
    if not request.user.has_perm(SIGN_OFF) and not request.user.has_perm(SIGN_OFF_RELEASE):
        raise PermissionDenied
    role = reviewer_role(request.user)
    if not set(role.split(", ")) & set(release.required_roles):
        raise ValueError(f"Your role ({role}) is not one this release's gate asks for.")
    links = [line.strip() for line in request.POST.get("evidence", "").splitlines()]
    sign_release(
        release=release, reviewer=request.user, decision=request.POST.get("decision", ""),
        notes=request.POST.get("notes", ""), evidence=links,
    )  # fmt: skip
