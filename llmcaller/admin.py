"""Admin for clients, their tokens and their OAuth applications. A raw token is
shown once, in the message after "Issue a token", and an application's secret
once, after "Create an OAuth application"; the admin never shows a hash, only
the display prefix or the client id. The toolkit's own admin (Django OAuth
Toolkit) lists access tokens; its "Revoke selected access tokens" revokes them.
The pilot page is registered in `llmcaller.pilot_admin`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.guards import GuardedActionsAdmin
from audit.history import ConfigHistoryAdmin
from audit.models import ChangeSource
from llmcaller.forms import ClientForm
from llmcaller.models import Client, ClientApplication, ClientToken
from llmcaller.oauth import create_application, forget_client_access_tokens
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


class ClientApplicationInline(admin.TabularInline):
    model = ClientApplication
    extra = 0
    fields = ["oauth_client_id", "created_at"]
    readonly_fields = ["oauth_client_id", "created_at"]
    verbose_name_plural = "OAuth applications (deleting one revokes its access tokens)"

    @admin.display(description="OAuth client id")
    def oauth_client_id(self, obj: ClientApplication) -> str:
        return obj.application.client_id

    def has_add_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        return False  # created by the action, which shows the secret once


@admin.register(Client)
class ClientAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    form = ClientForm
    list_display = ["tool_id", "name", "active", "methods", "requests_per_minute", "live_tokens"]
    list_filter = ["active"]
    search_fields = ["tool_id", "name"]
    inlines = [ClientTokenInline, ClientApplicationInline]
    actions = ["issue_tokens", "create_applications"]

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
        forget_client_access_tokens(obj)

    def has_issue_token_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("llmcaller.issue_token")

    @admin.action(description="Issue a token (shown once)", permissions=["issue_token"])
    def issue_tokens(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            issued = issue_token(
                client=client, actor=request.user.get_username(), source=ChangeSource.ADMIN
            )
            message = f"New token for {client.tool_id} (copy it now, it is not shown again): "
            self.message_user(request, message + issued.raw, messages.WARNING)

    @admin.action(
        description="Create an OAuth application (secret shown once)",
        permissions=["issue_token"],  # a credential, as a token is
    )
    def create_applications(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            issued = create_application(client=client)
            message = (
                f"New OAuth application for {client.tool_id}: client id {issued.client_id}, "
                f"secret (copy it now, it is not shown again): {issued.client_secret}"
            )
            self.message_user(request, message, messages.WARNING)


@admin.register(ClientToken)
class ClientTokenAdmin(GuardedActionsAdmin, ConfigHistoryAdmin, admin.ModelAdmin):
    list_display = ["prefix", "client", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["client"]
    search_fields = ["prefix", "client__tool_id"]
    fields = ["client", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["client", "prefix", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ClientToken]) -> None:
        count = revoke_tokens(
            tokens=list(queryset), actor=request.user.get_username(), source=ChangeSource.ADMIN
        )
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
