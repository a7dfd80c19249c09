"""OAuth 2 client credentials beside the static tokens (django-oauth-toolkit).

A client's `ClientApplication` holds a confidential application with the
client-credentials grant. `POST /oauth/token/` (its id and secret in HTTP Basic
or the form) answers a bearer token starting `llmco_` that lives
`LLMCALLER_OAUTH_TOKEN_SECONDS`. Its scopes are the client's allowed methods: all
of them when the request names none, and a method the client lacks is
`invalid_scope`. `POST /oauth/revoke/`, or deleting the token (or its
application) in the admin, revokes it. Both endpoints answer only the networks
the API answers. Presented tokens are checked in `llmcaller.auth`, the one
authentication function of every door.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    AbstractApplication,
    Application,
    get_access_token_model,
    revoke_access_token,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings

from audit.services import record_config_change
from llmcaller.auth import check_caller_address
from llmcaller.errors import Forbidden
from llmcaller.models import Client, ClientApplication
from llmcaller.tokens import OAUTH_TOKEN_PREFIX, forget_access_tokens


@dataclass(frozen=True)
class IssuedApplication:
    client_id: str
    client_secret: str  # shown once: only its hash is stored
    link: ClientApplication


def generate_access_token(request: Any) -> str:
    """oauthlib's token generator hook: 256 random bits behind our own prefix."""
    return OAUTH_TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_application(*, client: Client) -> IssuedApplication:
    secret = generate_client_secret()
    application = Application(
        name=client.tool_id,
        client_type=AbstractApplication.CLIENT_CONFIDENTIAL,
        authorization_grant_type=AbstractApplication.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    application.full_clean()
    application.save()
    link = ClientApplication.objects.create(client=client, application=application)
    return IssuedApplication(application.client_id, secret, link)


def revoke_access_tokens(tokens: list[Any], *, actor: str, source: str) -> int:
    """Revoke access tokens (and the refresh tokens bound to them) as the revoke
    endpoint does, each recorded in the configuration history; returns how many."""
    for token in tokens:
        before = _token_facts(token)
        revoke_access_token(token)
        _record_revocation("access token", before, actor, source)
    return len(tokens)


def revoke_refresh_tokens(tokens: list[Any], *, actor: str, source: str) -> int:
    """Revoke refresh tokens and the access tokens bound to them; returns how many."""
    for token in tokens:
        before = _token_facts(token)
        token.revoke()  # a no-op on one already revoked
        _record_revocation("refresh token", before, actor, source)
    return len(tokens)


def _token_facts(token: Any) -> dict[str, Any]:
    """What the history keeps of an OAuth token: whose it is, never the token."""
    application = token.application
    expires = getattr(token, "expires", None)
    return {
        "client": application.name if application else None,
        "oauth_client_id": application.client_id if application else None,
        "scope": getattr(token, "scope", None),
        "expires": expires.isoformat() if expires else None,
    }


def _record_revocation(kind: str, before: dict[str, Any], actor: str, source: str) -> None:
    record_config_change(
        actor=actor, request_id="", obj_repr=f"OAuth {kind}: {before['client']}",
        action="revoke token", before=before, after=None, source=source,
    )  # fmt: skip


def forget_client_access_tokens(client: Client) -> None:
    """Drop the cached lookups of every access token of `client`'s applications."""
    tokens = get_access_token_model().objects.filter(application__gateway_client__client=client)
    forget_access_tokens(list(tokens.values_list("token_checksum", flat=True)))


def forget_deleted_access_token(sender: type, instance: Any, **kwargs: Any) -> None:
    """post_delete of an access token: revocation deletes the row, wherever it is
    done (the revoke endpoint, the admin, an application's deletion), and this one
    receiver catches every path the toolkit takes to it."""
    forget_access_tokens([instance.token_checksum])


class ClientValidator(OAuth2Validator):
    """The toolkit's checks, and one more: an inactive client obtains no token."""

    def validate_grant_type(self, client_id: str, grant_type: str, client: Any, request: Any,
                            *args: Any, **kwargs: Any) -> bool:  # fmt: skip
        allowed = super().validate_grant_type(client_id, grant_type, client, request, *args,
                                              **kwargs)  # fmt: skip
        return allowed and ClientApplication.objects.filter(
            application=request.client, client__active=True
        ).exists()  # fmt: skip


class ClientScopes(BaseScopes):
    """Scopes are API methods; an application may have its client's allowed ones."""

    def get_all_scopes(self) -> dict[str, str]:
        return oauth2_settings.SCOPES

    def get_available_scopes(self, application: Any = None, request: Any = None, *args: Any,
                             **kwargs: Any) -> list[str]:  # fmt: skip
        link = ClientApplication.objects.select_related("client").filter(
            application=application
        ).first()  # fmt: skip
        if link is None or not link.client.active:
            return []
        return list(link.client.allowed_methods)

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any,
                           **kwargs: Any) -> list[str]:  # fmt: skip
        return self.get_available_scopes(application, request)


class _CallerAddressCheck:
    """The token endpoints answer the networks the API answers, and no others."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            check_caller_address(request)
        except Forbidden as exc:
            return JsonResponse({"error": "access_denied", "error_description": str(exc)},
                                status=403)  # fmt: skip
        return super().dispatch(request, *args, **kwargs)


# csrf_exempt again: the toolkit marks its own `dispatch`, which ours overrides.
@method_decorator(csrf_exempt, name="dispatch")
class TokenView(_CallerAddressCheck, views.TokenView):
    pass


@method_decorator(csrf_exempt, name="dispatch")
class RevokeTokenView(_CallerAddressCheck, views.RevokeTokenView):
    pass
