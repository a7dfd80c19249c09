"""Routing records in the admin: declarative, with fallback steps ordered by drag
and drop (a small script of ours writes each row's position on submit), and the
"Routing preview" page hung off the fallback chains' URLs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from audit.guards import GuardedActionsAdmin
from audit.history import ConfigHistoryAdmin
from routing.models import CapabilityScore, FallbackChain, FallbackStep, FaultRule, TaskPreference
from routing.preview import RoutingPreviewView
from routing.version_admin import ConfigVersionAdmin  # noqa: F401  (registers its pages)

_SORTABLE = forms.Media(
    js=["routing/sortable_inline.js"], css={"all": ["routing/sortable_inline.css"]}
)


@admin.register(CapabilityScore)
class CapabilityScoreAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    list_display = ["model", "capability", "score", "is_default"]
    list_editable = ["score", "is_default"]
    list_filter = ["capability", "is_default", "model__provider"]
    search_fields = ["model__model_id", "model__provider__key"]
    list_select_related = ["model__provider"]
    autocomplete_fields = ["model"]


@admin.register(TaskPreference)
class TaskPreferenceAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    list_display = ["task", "position", "model"]
    list_display_links = ["model"]
    list_editable = ["position"]
    list_filter = ["task"]
    list_select_related = ["model__provider"]
    autocomplete_fields = ["model"]


class FallbackStepInline(admin.TabularInline):
    """Steps in the order they are tried; drag a row by its handle to reorder."""

    model = FallbackStep
    extra = 0
    fields = [
        "handle", "position", "model", "on_temporary", "on_rate_limit", "on_timeout", "on_auth",
    ]  # fmt: skip
    readonly_fields = ["handle"]
    autocomplete_fields = ["model"]
    classes = ["sortable-inline"]

    def formfield_for_dbfield(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "position":
            kwargs["widget"] = forms.HiddenInput
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="")
    def handle(self, step: FallbackStep) -> str:
        return "⠿"

    @property
    def media(self) -> forms.Media:
        return super().media + _SORTABLE


@admin.register(FallbackChain)
class FallbackChainAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    inlines = [FallbackStepInline]
    list_display = ["name", "capability", "is_default", "step_count", "description"]
    list_filter = ["capability", "is_default"]
    search_fields = ["name", "description"]

    def get_urls(self) -> list[URLPattern]:
        view = RoutingPreviewView.as_view(admin_site=self.admin_site)
        preview = path("preview/", self.admin_site.admin_view(view), name="routing_preview")
        return [preview, *super().get_urls()]

    @admin.display(description="steps")
    def step_count(self, chain: FallbackChain) -> int:
        return chain.steps.count()


@admin.register(FaultRule)
class FaultRuleAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    list_display = ["name", "target", "kind", "probability", "starts_at", "expires_at", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "notes"]
    list_select_related = ["provider", "model__provider"]
    autocomplete_fields = ["model"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not settings.LLMCALLER_FAULTS_ENABLED:
            note = "Fault injection is off (LLMCALLER_FAULTS_ENABLED): these rules have no effect."
            self.message_user(request, note, messages.WARNING)
        return super().changelist_view(request, extra_context)
