"""Configuration versions in the admin: publish, review, compare, re-activate.

Versions are read-only rows. Their pages add what a reviewer and an operator
do with them, each a small view over `routing.versions`: "Publish" (the working
copy's diff against the active version, a summary, one button; needs
add_configversion), a version's page with its sign-offs and the review form
(approve, request changes, reject, with notes and evidence links; needs
review_configversion, and the service refuses the author), "Re-activate" for an
earlier approved version (change_configversion), and a structured diff between
any two versions or a version and the working copy.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from audit.guards import NoEditsAdmin
from audit.models import ChangeSource, SignOffDecision
from routing.config_diff import diff_configs
from routing.models import ConfigVersion
from routing.versions import (
    ReviewRefused,
    active_version,
    publish_working_copy,
    reactivate_version,
    reusable_statuses,
    review_required,
    review_version,
    sign_offs_of,
    working_copy,
)

WORKING_COPY = "working"


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=SignOffDecision.choices, widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=False)
    evidence = forms.CharField(
        label="evidence links", required=False, help_text="One link per line.",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") != SignOffDecision.APPROVE and not data.get("notes", "").strip():
            raise forms.ValidationError("Say in the notes what should change, or why not.")
        return data


class PublishForm(forms.Form):
    summary = forms.CharField(
        max_length=255, required=False, widget=forms.TextInput(attrs={"size": 80}),
        help_text="One line: what changed and why (left empty, the diff is summarised).",
    )  # fmt: skip


@admin.register(ConfigVersion)
class ConfigVersionAdmin(NoEditsAdmin, admin.ModelAdmin):
    list_display = [
        "number",
        "status",
        "is_active",
        "author",
        "created_at",
        "summary",
        "short_hash",
    ]
    list_filter = ["status", "is_active"]
    search_fields = ["summary", "author", "sha256"]
    change_list_template = "admin/routing/configversion/change_list.html"

    @admin.display(description="sha256")
    def short_hash(self, version: ConfigVersion) -> str:
        return version.sha256[:12]

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("publish/", wrap(self.publish_view), name="routing_configversion_publish"),
            path("<int:pk>/review/", wrap(self.review_view), name="routing_configversion_review"),
            path(
                "<int:pk>/reactivate/",
                wrap(self.reactivate_view),
                name="routing_configversion_reactivate",
            ),  # fmt: skip
            path("diff/", wrap(self.diff_view), name="routing_configversion_diff"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(ConfigVersion, pk=object_id)
        active = active_version()
        context = self._context(request, f"Configuration {version}") | {
            "version": version, "active": active, "sign_offs": sign_offs_of(version),
            "review_form": ReviewForm(), "can_review": request.user.has_perm(
                "routing.review_configversion"),
            "can_reactivate": request.user.has_perm("routing.change_configversion")
            and not version.is_active and version.status in reusable_statuses(),
            "diff_url": _diff_url(active.number if active else None, version.number),
        }  # fmt: skip
        return TemplateResponse(request, "admin/routing/configversion/detail.html", context)

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = get_object_or_404(ConfigVersion, pk=pk)
        form = ReviewForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            for error in form.errors.get("__all__", []):
                self.message_user(request, error, messages.ERROR)
            return _back_to(version)
        links = tuple(line.strip() for line in form.cleaned_data["evidence"].splitlines())
        try:
            review_version(
                version=version, reviewer=request.user, decision=form.cleaned_data["decision"],
                notes=form.cleaned_data["notes"], evidence=links,
            )  # fmt: skip
        except ReviewRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            version.refresh_from_db()
            self.message_user(request, f"{version}: {version.get_status_display()}.")
        return _back_to(version)

    def reactivate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST" or not request.user.has_perm("routing.change_configversion"):
            raise PermissionDenied
        version = get_object_or_404(ConfigVersion, pk=pk)
        actor = request.user.get_username()
        try:
            reactivate_version(version=version, actor=actor, source=ChangeSource.ADMIN)
        except ReviewRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"{version} is active again; routing follows at once.")
        return _back_to(version)

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("routing.add_configversion"):
            raise PermissionDenied
        form = PublishForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            author = request.user.get_username()
            summary = form.cleaned_data["summary"]
            version = publish_working_copy(author=author, source="admin", summary=summary)
            if version is None:
                self.message_user(request, "Nothing to publish: the working copy is published.")
                return HttpResponseRedirect(reverse("admin:routing_configversion_changelist"))
            self.message_user(request, f"Published {version}: {version.get_status_display()}.")
            return _back_to(version)
        active = active_version()
        changes = diff_configs(_config(active), working_copy()[0])
        context = self._context(request, "Publish the working copy") | {
            "form": form, "active": active, "changes": changes,
            "review_required": review_required(),
        }  # fmt: skip
        return TemplateResponse(request, "admin/routing/configversion/publish.html", context)

    def diff_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        active = active_version()
        old_label, old = _side(request.GET.get("a") or (active.number if active else WORKING_COPY))
        new_label, new = _side(request.GET.get("b") or WORKING_COPY)
        context = self._context(request, f"Changes from {old_label} to {new_label}") | {
            "changes": diff_configs(old, new), "a": request.GET.get("a", ""),
            "b": request.GET.get("b", ""),
            "versions": ConfigVersion.objects.only("number", "status")[:50],
        }  # fmt: skip
        return TemplateResponse(request, "admin/routing/configversion/diff.html", context)

    def _context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta}


def _side(value: str | int) -> tuple[str, dict[str, Any]]:
    """A version by number, or the working copy ("working"): its label and export."""
    if str(value) == WORKING_COPY:
        return "the working copy", working_copy()[0]
    if not str(value).isdigit():
        raise Http404("Name a version by its number, or 'working'.")
    version = get_object_or_404(ConfigVersion, number=value)
    return str(version), _config(version)


def _config(version: ConfigVersion | None) -> dict[str, Any]:
    return json.loads(version.canonical) if version is not None else {}


def _diff_url(old: int | None, new: int | None) -> str:
    base = reverse("admin:routing_configversion_diff")
    return f"{base}?a={old or WORKING_COPY}&b={new or WORKING_COPY}"


def _back_to(version: ConfigVersion) -> HttpResponse:
    return HttpResponseRedirect(reverse("admin:routing_configversion_change", args=[version.pk]))
