"""Routing records: how the gateway picks a model and what it does on failure.

An operator edits these in the admin, beside the providers and models they
point at: per model and capability a score and a default flag, per task an
ordered list of preferred models, named fallback chains (one default per
capability), and fault rules for rehearsing failures. Workers never read these
tables per request: they route from a compiled snapshot (`routing.snapshot`),
which `ConfigGeneration` tells them to refresh.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from providers.models import Capability, Model, Provider


class Task(models.TextChoices):
    CODING = "coding", "coding"
    RESEARCH = "research", "research"
    CREATIVE = "creative", "creative"
    ANALYSIS = "analysis", "analysis"
    GENERAL = "general", "general"


class ErrorClass(models.TextChoices):
    """Failures a fallback step may hand on to the next step."""

    TEMPORARY = "TEMPORARY", "temporary failure (5xx, unreachable)"
    RATE_LIMIT = "RATE_LIMIT", "rate limited (429)"
    AUTH = "AUTH", "credential refused"
    TIMEOUT = "TIMEOUT", "timed out"


class FaultKind(models.TextChoices):
    TEMPORARY = "TEMPORARY", "temporary failure"
    RATE_LIMIT = "RATE_LIMIT", "rate limited"
    AUTH = "AUTH", "credential refused"
    TIMEOUT = "TIMEOUT", "timeout"
    LATENCY = "LATENCY", "added latency"
    BROKEN_STREAM = "BROKEN_STREAM", "broken stream"
    MALFORMED = "MALFORMED", "malformed body"


class CapabilityScore(models.Model):
    """How well one model serves one capability (0–100), and whether it is the
    capability's default: the model a call goes to when nothing else decides."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="capability_scores")
    capability = models.CharField(max_length=16, choices=Capability.choices)
    score = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_default = models.BooleanField("default for this capability", default=False)

    class Meta:
        ordering = [
            "capability", "-is_default", "-score", "model__provider__key", "model__model_id",
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint(
                fields=["model", "capability"], name="unique_score_per_model_capability"
            ),
            models.UniqueConstraint(
                fields=["capability"],
                condition=Q(is_default=True),
                name="one_default_model_per_capability",
                violation_error_message="Another model is already this capability's default.",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="score_between_0_and_100"
            ),
        ]

    def __str__(self) -> str:
        flag = " (default)" if self.is_default else ""
        return f"{self.model} {self.capability}: {self.score}{flag}"


class TaskPreference(models.Model):
    """One entry of a task's ordered list of preferred models: chat calls of this
    task go to the first usable model of the list."""

    task = models.CharField(max_length=16, choices=Task.choices)
    position = models.PositiveIntegerField(default=0)
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="task_preferences")

    class Meta:
        ordering = ["task", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "model"], name="unique_model_per_task"),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.position}: {self.model}"


class FallbackChain(models.Model):
    """A named, ordered list of models to try when a call fails. The default
    chain of a capability is appended to every plan for that capability."""

    name = models.SlugField(max_length=64, unique=True)
    capability = models.CharField(max_length=16, choices=Capability.choices)
    is_default = models.BooleanField("default for this capability", default=False)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["capability"],
                condition=Q(is_default=True),
                name="one_default_chain_per_capability",
                violation_error_message="Another chain is already this capability's default.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FallbackStep(models.Model):
    """One step of a fallback chain: a model, and which failures of it move the
    call on to the next step (any other failure ends the call)."""

    chain = models.ForeignKey(FallbackChain, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="fallback_steps")
    on_temporary = models.BooleanField("on temporary failure", default=True)
    on_rate_limit = models.BooleanField("on rate limit", default=True)
    on_timeout = models.BooleanField("on timeout", default=True)
    on_auth = models.BooleanField("on credential refused", default=False)

    class Meta:
        ordering = ["chain", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "model"], name="unique_model_per_chain"),
        ]

    def __str__(self) -> str:
        return f"{self.chain} #{self.position}: {self.model}"

    def move_on(self) -> frozenset[str]:
        flags = {
            ErrorClass.TEMPORARY: self.on_temporary,
            ErrorClass.RATE_LIMIT: self.on_rate_limit,
            ErrorClass.TIMEOUT: self.on_timeout,
            ErrorClass.AUTH: self.on_auth,
        }
        return frozenset(str(error) for error, on in flags.items() if on)


class FaultRule(models.Model):
    """A failure the gateway injects on purpose, to rehearse fallbacks and
    breakers. Only effective while LLMCALLER_FAULTS_ENABLED is on."""

    name = models.SlugField(max_length=64, unique=True)
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, null=True, blank=True, related_name="fault_rules"
    )
    model = models.ForeignKey(
        Model, on_delete=models.CASCADE, null=True, blank=True, related_name="fault_rules"
    )
    kind = models.CharField(max_length=16, choices=FaultKind.choices)
    probability = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    latency_ms = models.PositiveIntegerField(
        default=0, help_text="Added latency, for 'added latency' faults."
    )
    break_after = models.PositiveIntegerField(
        default=1, help_text="Deltas sent before a 'broken stream' fault cuts the stream."
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__isnull=False) ^ Q(model__isnull=False),
                name="fault_targets_a_provider_or_a_model",
                violation_error_message="Target either a provider or a model.",
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="fault_probability_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(expires_at__isnull=True)
                | Q(expires_at__gt=models.F("starts_at")),
                name="fault_expires_after_it_starts",
                violation_error_message="A fault must expire after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == FaultKind.LATENCY and not self.latency_ms:
            raise ValidationError({"latency_ms": "Added latency needs a number of milliseconds."})

    def target(self) -> str:
        return str(self.model) if self.model_id else str(self.provider)


class ConfigGeneration(models.Model):
    """A counter bumped whenever routing-relevant configuration changes. Each
    worker reads it at most once a second and recompiles its snapshot when it
    moved; it is not a published configuration version."""

    number = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"generation {self.number}"


class VersionStatus(models.TextChoices):
    PUBLISHED = "published", "published (no review required)"
    PENDING = "pending", "pending review"
    APPROVED = "approved", "approved"
    CHANGES_REQUESTED = "changes_requested", "changes requested"
    REJECTED = "rejected", "rejected"


class ConfigVersionIsImmutable(Exception):
    """A published version's content was about to change, or the version deleted."""


# What may change on a version after it is published: its review state and
# whether it is the active one. Everything else is the immutable record.
MUTABLE_VERSION_FIELDS = frozenset({"status", "is_active", "activated_at"})


class ConfigVersionQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        if not set(kwargs) <= MUTABLE_VERSION_FIELDS:
            raise ConfigVersionIsImmutable("A configuration version's content never changes.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ConfigVersionIsImmutable("Configuration versions are never deleted.")


class ConfigVersion(models.Model):
    """One published configuration: the canonical export exactly as `export_config`
    writes it, its sha256, who published it, when and why. Routing on every
    worker reads the one active version; runtime facts (health, loaded state)
    are overlaid from the live tables."""

    number = models.PositiveIntegerField(unique=True)
    canonical = models.TextField("canonical export")
    sha256 = models.CharField(max_length=64)
    author = models.CharField(max_length=150)
    source = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()
    summary = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    status = models.CharField(max_length=20, choices=VersionStatus.choices)
    is_active = models.BooleanField("active", default=False)
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = ConfigVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        verbose_name = "configuration version"
        permissions = [("review_configversion", "Can approve or reject configuration versions")]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="one_active_config_version",
                violation_error_message="Another configuration version is already active.",
            ),
        ]

    def __str__(self) -> str:
        return f"version {self.number} ({self.sha256[:12]})"

    def save(self, *args: object, **kwargs: object) -> None:
        fields = kwargs.get("update_fields")
        if not self._state.adding and (fields is None or not set(fields) <= MUTABLE_VERSION_FIELDS):
            raise ConfigVersionIsImmutable("A configuration version's content never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ConfigVersionIsImmutable("Configuration versions are never deleted.")

    def canonical_payload(self) -> dict[str, object]:
        """The fields a tamper-evident trail would hash for this version."""
        return {
            "number": self.number, "sha256": self.sha256, "author": self.author,
            "source": self.source, "created_at": self.created_at.isoformat(),
            "summary": self.summary, "parent": self.parent.number if self.parent else None,
        }  # fmt: skip
