"""The governance rows: configuration changes, the governance trail's entries,
sign-offs (final once written) and releases with the roles their gate needs.

Like every audit row, none points at another app's tables: subjects and
configuration versions are named by kind, id and number.
"""

from __future__ import annotations

from django.db import models


class ChangeSource(models.TextChoices):
    """Where a configuration change came from."""

    ADMIN = "admin", "admin"
    COMMAND = "command", "management command"
    IMPORT = "import", "import_config"
    DISCOVERY = "discovery", "discovery"
    SYSTEM = "system", "system"


class ConfigChange(models.Model):
    """One change to the gateway's configuration: who made it, to what, from where
    (admin, command, import, discovery), and the object before and after, with
    secret values (credentials, token hashes) masked."""

    created_at = models.DateTimeField(db_index=True)
    actor_name = models.CharField("actor", max_length=150)
    source = models.CharField(max_length=16, choices=ChangeSource.choices, blank=True)
    request_id = models.CharField("request id", max_length=128, blank=True)
    object_repr = models.CharField("object", max_length=255)
    action = models.CharField(max_length=32)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr} by {self.actor_name}"


class TrailEntry(models.Model):
    """One link of the governance trail: a configuration change, a prune
    checkpoint, a sign-off or a configuration version as it was written (its
    governed fields in `payload`), keyed and chained like call records, so
    `verify_audit` names a governed row edited, deleted or inserted behind the
    services' back. The custom permissions are those of governance decisions."""

    seq = models.BigIntegerField("chain position", unique=True)
    kind = models.CharField(max_length=32)
    object_id = models.CharField("object id", max_length=64)
    payload = models.JSONField()
    recorded_at = models.DateTimeField()
    key_id = models.CharField("key id", max_length=16, blank=True, default="")
    prev_hash = models.CharField("previous hash", max_length=64)
    row_hash = models.CharField("row hash", max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = "trail entry"
        verbose_name_plural = "trail entries"
        indexes = [models.Index(fields=["kind", "object_id"], name="trailentry_object")]
        permissions = [
            ("sign_off", "Can record a sign-off on any subject"),
            ("sign_off_release", "Can record a sign-off on a release or a pilot"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} at {self.seq}"


class SignOffDecision(models.TextChoices):
    APPROVE = "approve", "approve"
    REQUEST_CHANGES = "request_changes", "request changes"
    REJECT = "reject", "reject"


class SignOffIsFinal(Exception):
    """A sign-off was about to be changed or deleted: signed entries are final."""


class SignOffQuerySet(models.QuerySet):
    """Bulk paths that would bypass `SignOff.save`/`delete` refuse as well."""

    def update(self, **kwargs: object) -> int:
        raise SignOffIsFinal("Sign-offs cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise SignOffIsFinal("Sign-offs cannot be deleted.")

    def bulk_update(self, objs: object, fields: object, batch_size: int | None = None) -> int:
        raise SignOffIsFinal("Sign-offs cannot be changed.")


class SignOff(models.Model):
    """A reviewer's recorded decision on one subject (a configuration version, a
    release, later a pilot or a UAT run), with the role they held at the time,
    their notes and evidence. Written once by `audit.services.record_sign_off`;
    never edited or deleted. The subject is named, not linked: audit depends on
    no other app, and new kinds of subject need no migration."""

    subject_kind = models.CharField("subject kind", max_length=32)
    subject_id = models.CharField("subject id", max_length=64)
    subject_label = models.CharField("subject", max_length=255)
    decision = models.CharField(max_length=16, choices=SignOffDecision.choices)
    notes = models.TextField(blank=True)
    evidence = models.JSONField("evidence links", default=list, blank=True)
    reviewer_name = models.CharField("reviewer", max_length=150)
    reviewer_role = models.CharField("reviewer's role", max_length=150)
    created_at = models.DateTimeField(db_index=True)

    objects = SignOffQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "sign-off"
        indexes = [models.Index(fields=["subject_kind", "subject_id"], name="signoff_subject")]

    def __str__(self) -> str:
        return f"{self.reviewer_name}: {self.get_decision_display()} {self.subject_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise SignOffIsFinal("Sign-offs cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise SignOffIsFinal("Sign-offs cannot be deleted.")

    def canonical_payload(self) -> dict[str, object]:
        """The fields a tamper-evident trail would hash for this entry."""
        return {
            "subject_kind": self.subject_kind, "subject_id": self.subject_id,
            "subject_label": self.subject_label, "decision": self.decision,
            "notes": self.notes, "evidence": list(self.evidence),
            "reviewer_name": self.reviewer_name, "reviewer_role": self.reviewer_role,
            "created_at": self.created_at.isoformat(),
        }  # fmt: skip


def default_release_roles() -> list[str]:
    return ["QA", "Assessors", "Operations", "Product"]  # the role groups (audit.roles)


class Release(models.Model):
    """A release of the gateway's configuration: a name, a target date, notes, the
    configuration version it ships (by number: audit links to no other app's
    rows), and the roles whose approval of that same version its gate needs."""

    name = models.CharField(max_length=64, unique=True)
    target_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    config_version = models.PositiveIntegerField("configuration version")
    required_roles = models.JSONField(
        default=default_release_roles, help_text="Roles (group names) that must approve."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"release {self.name}"

    @property
    def subject_id(self) -> str:
        """Sign-offs name the release and the version together, so approving a
        later version never counts approvals of an earlier one."""
        return f"{self.name}@{self.config_version}"
