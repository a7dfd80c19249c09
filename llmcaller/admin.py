"""Admin for clients and their tokens. A raw token is shown once, in the message
after "Issue a token"; the admin never shows a hash, only the display prefix.
The pilot page is registered in `llmcaller.pilot_admin`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.history import ConfigHistoryAdmin
from llmcaller.forms import ClientForm
from llmcaller.models import Client, ClientToken
from llmcaller.pilot_admin import PilotAdmin
from llmcaller.tokens import forget_token, issue_token, revoke_tokens

__all__ = ["ClientAdmin", "PilotAdmin"]


class ClientTokenInline(admin.TabularInline):
    model = ClientToken
    extra = 0
    can_delete = False
    fields = ["prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "revoked_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        return False  # tokens are issued by the action, which shows the raw value once


@admin.register(Client)
class ClientAdmin(ConfigHistoryAdmin, admin.ModelAdmin):
    form = ClientForm
    list_display = ["tool_id", "name", "active", "methods", "requests_per_minute", "live_tokens"]
    list_filter = ["active"]
    search_fields = ["tool_id", "name"]
    inlines = [ClientTokenInline]
    actions = ["issue_tokens"]

    @admin.display(description="allowed methods")
    def methods(self, obj: Client) -> str:
        return ", ".join(obj.allowed_methods)

    @admin.display(description="live tokens")
    def live_tokens(self, obj: Client) -> int:
        return sum(1 for token in obj.tokens.all() if token.is_live())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return super().get_queryset(request).prefetch_related("tokens")

    def save_model(self, request: HttpRequest, obj: Client, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for token in obj.tokens.all():
            forget_token(token.token_hash)  # methods, limits, active apply at once

    @admin.action(description="Issue a token (shown once)")
    def issue_tokens(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            issued = issue_token(client=client)
            message = f"New token for {client.tool_id} (copy it now, it is not shown again): "
            self.message_user(request, message + issued.raw, messages.WARNING)


@admin.register(ClientToken)
class ClientTokenAdmin(ConfigHistoryAdmin, admin.ModelAdmin):
    list_display = ["prefix", "client", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["client"]
    search_fields = ["prefix", "client__tool_id"]
    fields = ["client", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["client", "prefix", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ClientToken]) -> None:
        count = revoke_tokens(tokens=list(queryset))
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
