"""The toolkit's access- and refresh-token pages, with least privilege.

Django OAuth Toolkit's own admin offers "Revoke selected …" to anyone who can
see the list, and its change form would let a reader edit a live token's scope
or expiry. Here the tokens are read-only (the flows issue them), revoking needs
the permission that revokes static tokens (`llmcaller.change_clienttoken`, held
by operators), and each revocation joins the configuration history. Named in
settings as the toolkit's admin classes (OAUTH2_PROVIDER).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from oauth2_provider import admin as toolkit

from audit.guards import GuardedActionsAdmin
from audit.models import ChangeSource
from llmcaller.oauth import revoke_access_tokens, revoke_refresh_tokens

REVOKE_PERMISSION = "llmcaller.change_clienttoken"


class _RevokableTokens(GuardedActionsAdmin):
    actions = ["revoke_tokens"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVOKE_PERMISSION)


class AccessTokenAdmin(_RevokableTokens, toolkit.AccessTokenAdmin):
    @admin.action(description="Revoke selected access tokens", permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = revoke_access_tokens(
            list(queryset), actor=request.user.get_username(), source=ChangeSource.ADMIN
        )
        self.message_user(request, f"Revoked {count} access token(s).", messages.SUCCESS)


class RefreshTokenAdmin(_RevokableTokens, toolkit.RefreshTokenAdmin):
    @admin.action(description="Revoke selected refresh tokens", permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = revoke_refresh_tokens(
            list(queryset), actor=request.user.get_username(), source=ChangeSource.ADMIN
        )
        self.message_user(request, f"Revoked {count} refresh token(s).", messages.SUCCESS)
