"""The client registry: the tools that may call the gateway, and their credentials.

A static token is stored only as HMAC-SHA256(pepper, token) with a short prefix
for display; the raw value is shown once, when it is issued (`llmcaller.tokens`).
A client may also hold OAuth 2 applications (`ClientApplication`), through which
it obtains short-lived access tokens (`llmcaller.oauth`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone


class ApiMethod(models.TextChoices):
    CHAT = "chat", "chat"
    CHAT_STREAM = "chatStream", "streaming chat"
    EMBED = "embed", "embeddings"
    MODELS = "models", "list models"
    GET_HEALTH = "getHealth", "health"
    EXPLAIN_ROUTE = "explainRoute", "explain a route (MCP)"


tool_id_format = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    "Use letters, digits, dots, dashes and underscores.",
)


class Client(models.Model):
    """A calling tool: what it may call and how much. A call is answered only for
    an active client holding a live token, for a method in its allow-list."""

    tool_id = models.CharField("tool id", max_length=64, unique=True, validators=[tool_id_format])
    name = models.CharField(max_length=128)
    allowed_methods = models.JSONField(
        default=list, blank=True, help_text="The API methods this client may call."
    )
    active = models.BooleanField(default=True, help_text="Off: every token of it is refused.")
    requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Empty: no limit."
    )
    max_concurrent_streams = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Empty: no limit."
    )
    daily_token_budget = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Input plus output tokens per UTC day. Empty: no budget.",
    )  # fmt: skip
    monthly_token_budget = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Input plus output tokens per UTC month. Empty: no budget.",
    )  # fmt: skip
    response_cache_seconds = models.PositiveIntegerField(
        "response cache (seconds)", default=0,
        help_text="Answer identical embeddings and temperature-0 chats from the cache for "
        "this long. 0: off.",
    )  # fmt: skip
    keeps_content = models.BooleanField(
        "keep prompts and answers", default=False,
        help_text="Store this client's prompts and answers beside its call records.",
    )  # fmt: skip
    content_retention_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="How long kept prompts and answers stay. Empty: the gateway's default.",
    )  # fmt: skip
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tool_id"]
        permissions = [("issue_token", "Can issue a client token")]

    def __str__(self) -> str:
        return self.tool_id

    def clean(self) -> None:
        methods = self.allowed_methods
        if not isinstance(methods, list) or not set(methods) <= set(ApiMethod.values):
            raise ValidationError(
                {"allowed_methods": f"Choose among: {', '.join(ApiMethod.values)}."}
            )


class ClientToken(models.Model):
    """One credential of a client. A client may hold several live tokens at once,
    so a tool can rotate: issue a new one, deploy it, revoke the old one."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The token's first characters; not secret."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["client__tool_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.client.tool_id}: {self.prefix}…"

    def is_live(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ClientApplication(models.Model):
    """An OAuth 2 application of a client. With its id and secret the client obtains
    short-lived access tokens (client credentials) whose scopes are its allowed
    methods; deleting the application ends its access tokens."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="applications")
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="gateway_client"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client__tool_id", "-created_at"]
        verbose_name = "OAuth application"

    def __str__(self) -> str:
        return f"{self.client.tool_id}: {self.application.client_id}"
