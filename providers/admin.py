"""Providers and models in the admin: declarative, with actions that call services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from audit.guards import GuardedActionsAdmin
from audit.history import ConfigHistoryAdmin
from providers.errors import UpstreamError
from providers.forms import ModelForm, ProviderForm
from providers.models import HealthStatus, Model, Provider
from providers.services import (
    discover_models,
    probe_model_kind,
    probe_providers,
    send_test_prompt,
    settle_model_kind,
)

_BADGE_COLOURS = {
    HealthStatus.OK: "#1a7f37",
    HealthStatus.DEGRADED: "#9a6700",
    HealthStatus.FAILED: "#cf222e",
    HealthStatus.UNKNOWN: "#6e7781",
}


class ModelInline(admin.TabularInline):
    """The provider's models at a glance; facts come from discovery, so only
    `enabled` is edited here (declare a model on the Models page)."""

    model = Model
    extra = 0
    show_change_link = True
    fields = [
        "model_id", "kind", "capabilities_served", "loaded", "max_context_length",
        "loaded_context_length", "quantization", "enabled", "source", "seen", "last_seen",
    ]  # fmt: skip
    readonly_fields = [f for f in fields if f != "enabled"]

    def has_add_permission(self, request: HttpRequest, obj: Provider | None = None) -> bool:
        return False

    @admin.display(description="capabilities")
    def capabilities_served(self, model: Model) -> str:
        return ", ".join(model.capabilities) or "—"


@admin.register(Provider)
class ProviderAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    form = ProviderForm
    inlines = [ModelInline]
    list_display = [
        "key", "name", "kind", "base_url", "enabled", "health_badge",
        "last_heartbeat", "probe_latency_ms", "model_count",
    ]  # fmt: skip
    list_filter = ["kind", "enabled", "health_status"]
    search_fields = ["key", "name", "base_url", "notes"]
    readonly_fields = [
        "credential_status", "health_badge", "health_detail", "last_heartbeat",
        "probe_latency_ms", "coverage", "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "key",
                    "name",
                    "kind",
                    "base_url",
                    "enabled",
                    "load_on_demand",
                    "capabilities",
                ]
            },
        ),  # fmt: skip
        ("Calls", {"fields": ["timeout_seconds", "retry_attempts"]}),
        (
            "Credential",
            {
                "fields": [
                    "credential_status",
                    "credential_value",
                    "clear_credential",
                    "credential_env",
                    "credential_file",
                ],
                "description": "One source: a key stored encrypted, an environment variable "
                "or a file in the credentials directory.",
            },
        ),  # fmt: skip
        (
            "Health",
            {
                "fields": [
                    "health_badge",
                    "health_detail",
                    "last_heartbeat",
                    "probe_latency_ms",
                    "coverage",
                ]
            },
        ),  # fmt: skip
        ("Notes", {"fields": ["notes", "created_at", "updated_at"]}),
    ]
    actions = ["discover_models_action", "probe_now_action"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return super().get_queryset(request).annotate(model_total=Count("models"))

    @admin.display(description="health", ordering="health_status")
    def health_badge(self, provider: Provider) -> str:
        colour = _BADGE_COLOURS.get(provider.health_status, "#6e7781")
        return format_html(
            '<strong class="health health-{}" style="color:{}">{}</strong>',
            provider.health_status, colour, provider.get_health_status_display(),
        )  # fmt: skip

    @admin.display(description="models", ordering="model_total")
    def model_count(self, provider: Provider) -> int:
        return provider.model_total

    @admin.display(description="credential")
    def credential_status(self, provider: Provider) -> str:
        return provider.credential_state()  # set / missing / none needed, nothing more

    @admin.display(description="capability coverage")
    def coverage(self, provider: Provider) -> str:
        rows = provider.capability_coverage or []
        return ", ".join(f"{row['capability']}: {row['status']}" for row in rows) or "—"

    def has_discover_models_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("providers.discover_models")

    def has_probe_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("providers.probe_provider")

    @admin.action(description="Discover models", permissions=["discover_models"])
    def discover_models_action(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            try:
                summary = discover_models(provider=provider)
            except UpstreamError as exc:
                self.message_user(request, f"{provider.key}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, str(summary), messages.SUCCESS)

    @admin.action(description="Probe now", permissions=["probe"])
    def probe_now_action(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        # A disabled provider is not contacted: an operator disabled it for a reason.
        for provider in queryset.filter(enabled=False):
            note = f"{provider.key}: not probed, it is disabled (enable it first)."
            self.message_user(request, note, messages.WARNING)
        for report in probe_providers(providers=list(queryset.filter(enabled=True))):
            level = messages.SUCCESS if report.status == HealthStatus.OK else messages.WARNING
            self.message_user(request, str(report), level)


@admin.register(Model)
class ModelAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    form = ModelForm
    list_display = [
        "model_id", "provider", "kind", "capability_list", "loaded", "max_context_length",
        "loaded_context_length", "quantization", "enabled", "source", "seen", "last_seen",
    ]  # fmt: skip
    list_filter = ["provider", "kind", "loaded", "enabled", "source", "seen"]
    search_fields = ["model_id", "provider__key", "publisher", "architecture", "description"]
    list_select_related = ["provider"]
    readonly_fields = ["source", "first_seen", "last_seen"]
    actions = ["send_test_prompt_action", "probe_kind_action"]

    capability_list = ModelInline.capabilities_served

    def has_send_test_prompt_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("providers.send_test_prompt")  # it spends paid tokens

    @admin.action(description="Send a test prompt", permissions=["send_test_prompt"])
    def send_test_prompt_action(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        for model in queryset.select_related("provider"):
            result = send_test_prompt(model=model, actor=request.user.get_username())
            self.message_user(
                request, str(result), messages.SUCCESS if result.ok else messages.ERROR
            )

    @admin.action(
        description="Probe whether it embeds or chats (sets its kind)",
        permissions=["send_test_prompt"],  # it calls the model: it spends, as a test prompt does
    )
    def probe_kind_action(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        for model in queryset.select_related("provider"):
            kind = probe_model_kind(model=model)
            if kind is None:
                self.message_user(request, f"{model} neither embeds nor chats.", messages.ERROR)
                continue
            settle_model_kind(model, kind)
            self.save_model(request, model, form=None, change=True)  # recorded in history
            served = ", ".join(model.capabilities)
            self.message_user(request, f"{model} is {kind}: serves {served}.", messages.SUCCESS)
