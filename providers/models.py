"""Providers (upstream servers or accounts) and the models they serve.

These rows are the working copy an operator edits in the admin. Secrets are
never stored in plain text: a provider's credential is encrypted at rest
(`credential_ciphertext`), or named as an allowed environment variable
(`credential_env`) or a file in the credentials directory (`credential_file`);
`providers.secrets` reads whichever one is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.utils import timezone

from providers.adapters import KIND_CHOICES, adapter_class
from providers.errors import CredentialUnavailable
from providers.secrets import (
    CredentialSource,
    validate_credential_env,
    validate_credential_file,
)
from providers.types import ProviderConfig, normalise_base_url

if TYPE_CHECKING:
    from providers.adapters.base import ProviderAdapter
    from providers.http import UpstreamClient


class Capability(models.TextChoices):
    CHAT = "chat", "chat"
    CHAT_STREAM = "chatStream", "chat stream"
    EMBED = "embed", "embeddings"


class HealthStatus(models.TextChoices):
    UNKNOWN = "unknown", "not probed yet"
    OK = "ok", "ok"
    DEGRADED = "degraded", "degraded"
    FAILED = "failed", "failed"


class ModelKind(models.TextChoices):
    LLM = "llm", "LLM"
    VLM = "vlm", "vision LLM"
    EMBEDDINGS = "embeddings", "embeddings"


class ModelSource(models.TextChoices):
    DECLARED = "declared", "declared by an admin"
    DISCOVERED = "discovered", "found by discovery"


env_var_name = RegexValidator(
    r"^[A-Z_][A-Z0-9_]*$",
    "Name an environment variable: capital letters, digits and underscores.",
)
key_format = RegexValidator(
    r"^[a-z0-9][a-z0-9_.-]*$",
    "Use lower-case letters, digits, dots, dashes and underscores.",
)


class Provider(models.Model):
    """One upstream an operator routes calls to: an LM Studio instance, an
    OpenAI account, an Ollama server. Its health fields are written by probes."""

    key = models.CharField(max_length=64, unique=True, validators=[key_format])
    name = models.CharField("display name", max_length=128)
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    base_url = models.CharField(
        "base URL",
        max_length=512,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where the provider answers, e.g. http://127.0.0.1:1234.",
    )
    timeout_seconds = models.FloatField(default=30.0, validators=[MinValueValidator(0.1)])
    retry_attempts = models.PositiveSmallIntegerField(default=2)
    enabled = models.BooleanField(default=True)
    load_on_demand = models.BooleanField(
        default=False,
        help_text="Route to models that are not loaded: LM Studio 0.4 loads one through "
        "/api/v1/models/load, Ollama on first use. Off: only loaded models get calls.",
    )
    capabilities = models.JSONField(
        "capabilities served",
        default=list,
        blank=True,
        help_text="What this provider is expected to serve; a capability no model "
        "serves makes its health degraded.",
    )
    credential_env = models.CharField(
        "credential environment variable",
        max_length=128,
        blank=True,
        validators=[env_var_name, validate_credential_env],
        help_text="Name of the environment variable holding the API key (its name must "
        "start with the deployment's prefix, LLMCALLER_PROVIDER_ by default). The key "
        "itself is never stored or shown.",
    )
    credential_file = models.CharField(
        "credential file",
        max_length=128,
        blank=True,
        validators=[validate_credential_file],
        help_text="Name of a file in the credentials directory (mounted secrets) holding "
        "the API key.",
    )
    # Fernet ciphertext of a key entered in the admin (providers.secrets).
    credential_ciphertext = models.BinaryField(blank=True, default=b"", editable=False)
    notes = models.TextField(blank=True)

    health_status = models.CharField(
        max_length=16, choices=HealthStatus.choices, default=HealthStatus.UNKNOWN
    )
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    probe_latency_ms = models.FloatField(null=True, blank=True)
    health_detail = models.CharField(max_length=255, blank=True)
    capability_coverage = models.JSONField(default=list, blank=True)
    next_probe_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timeout_seconds__gt=0), name="provider_timeout_positive"
            ),
        ]
        permissions = [
            ("probe_provider", "Can probe a provider now"),
            ("discover_models", "Can discover a provider's models"),
        ]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        self.base_url = normalise_base_url(self.base_url)  # ".../v1" works as well
        chosen = [self.credential_ciphertext, self.credential_env, self.credential_file]
        if sum(1 for source in chosen if source) > 1:
            raise ValidationError(
                "Choose one credential source: a stored key, an environment variable "
                "or a credential file."
            )

    def credential_source(self) -> CredentialSource:
        return CredentialSource(
            self.key, self.credential_env, self.credential_file, bytes(self.credential_ciphertext)
        )

    def credential(self) -> str:
        """The plain credential ("" if none is configured); raises
        `CredentialUnavailable` when the configured source yields nothing."""
        return self.credential_source().resolve()

    def credential_state(self) -> str:
        """What the admin may say about the credential: never where or what it is."""
        source = self.credential_source()
        if not source.kind:
            return "none needed"
        try:
            source.resolve()
        except CredentialUnavailable:
            return "missing"
        return "set"

    def adapter(self, client: UpstreamClient) -> ProviderAdapter:
        return adapter_class(self.kind)(self.to_config(), client)

    def to_config(self) -> ProviderConfig:
        return ProviderConfig(
            key=self.key,
            kind=self.kind,
            base_url=self.base_url,
            timeout=self.timeout_seconds,
            credential=self.credential(),
        )


class Model(models.Model):
    """A model a provider serves, found by discovery or declared by an admin.
    Discovery never deletes one: a model that vanished is marked not seen."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="models")
    model_id = models.CharField("model id", max_length=255)
    kind = models.CharField(max_length=16, choices=ModelKind.choices, default=ModelKind.LLM)
    capabilities = models.JSONField(default=list, blank=True)
    max_context_length = models.PositiveIntegerField(null=True, blank=True)
    loaded_context_length = models.PositiveIntegerField(null=True, blank=True)
    loaded = models.BooleanField(default=False)
    quantization = models.CharField(max_length=64, blank=True)
    architecture = models.CharField(max_length=64, blank=True)
    publisher = models.CharField(max_length=128, blank=True)
    description = models.TextField(blank=True)
    tool_use = models.BooleanField(default=False)
    vision = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    source = models.CharField(
        max_length=16, choices=ModelSource.choices, default=ModelSource.DECLARED
    )
    seen = models.BooleanField(
        "seen by last discovery",
        default=True,
        help_text="False when the last discovery no longer found this model.",
    )
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["provider__key", "model_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model_id"], name="unique_model_per_provider"
            ),
        ]
        permissions = [("send_test_prompt", "Can send a test prompt (spends tokens)")]

    def __str__(self) -> str:
        return f"{self.provider.key}/{self.model_id}"

    def serves(self, capability: str) -> bool:
        return capability in self.capabilities
