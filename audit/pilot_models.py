"""Pilots: onboarding engagements of one calling tool, their checklists, and the
backlog they produce (findings and their follow-ups).

A pilot names its client by id and tool id, never by a key into the clients'
table, as every audit row does. Sign-offs (built beside this) refer to a pilot
as subject kind `Pilot.SUBJECT_KIND` ("pilot") with `subject_id` = its primary
key as text, and hash `Pilot.canonical_payload()`: the engagement, its contacts,
every checklist item with who ticked it and when, and its backlog.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class PilotStatus(models.TextChoices):
    PLANNED = "planned", "planned"
    PRE_FLIGHT = "pre-flight", "pre-flight"
    REHEARSAL = "rehearsal", "rehearsal"
    LIVE = "live", "live"
    WRAP_UP = "wrap-up", "wrap-up"
    CLOSED = "closed", "closed"


class ChecklistPhase(models.TextChoices):
    PRE_FLIGHT = "pre-flight", "pre-flight"
    REHEARSAL = "rehearsal", "rehearsal"
    WRAP_UP = "wrap-up", "wrap-up"


class Severity(models.TextChoices):
    LOW = "low", "low"
    MEDIUM = "medium", "medium"
    HIGH = "high", "high"
    CRITICAL = "critical", "critical"


class BacklogStatus(models.TextChoices):
    OPEN = "open", "open"
    IN_PROGRESS = "in-progress", "in progress"
    DONE = "done", "done"
    WONT_FIX = "wont-fix", "won't fix"


class Pilot(models.Model):
    """One calling tool's onboarding, from planning to close. Its calls are the
    call records of its client from the kickoff date through the end date (or
    until now while it has none)."""

    SUBJECT_KIND = "pilot"

    name = models.SlugField(max_length=64, unique=True, help_text="run_uat --pilot NAME")
    caller_tool = models.CharField("calling tool", max_length=256)
    client_id = models.BigIntegerField("client id")
    client_name = models.CharField("client", max_length=128, help_text="The client's tool id.")
    owner = models.CharField(max_length=150)
    kickoff = models.DateField("kickoff date")
    ends_on = models.DateField("end date", null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=PilotStatus.choices, default=PilotStatus.PLANNED
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-kickoff", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def subject_id(self) -> str:
        return str(self.pk)

    def canonical_payload(self) -> dict[str, Any]:
        """What a sign-off or an evidence pack on this pilot hashes."""
        return {
            "kind": self.SUBJECT_KIND, "id": self.subject_id, "name": self.name,
            "callerTool": self.caller_tool, "client": {"id": self.client_id,
                                                       "name": self.client_name},
            "owner": self.owner, "kickoff": self.kickoff.isoformat(),
            "endsOn": self.ends_on.isoformat() if self.ends_on else None,
            "status": self.status,
            "contacts": [c.payload() for c in self.contacts.order_by("pk")],
            "checklist": [i.payload() for i in self.checklist.order_by("phase", "position")],
            "findings": [f.payload() for f in self.findings.order_by("pk")],
        }  # fmt: skip


class PilotContact(models.Model):
    """Someone to reach about a pilot: on the calling tool's side or ours."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=128)
    role = models.CharField(max_length=128, blank=True)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name

    def payload(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "email": self.email}


class ChecklistItem(models.Model):
    """One thing an onboarding needs done in a phase; ticked with who and when."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="checklist")
    phase = models.CharField(max_length=16, choices=ChecklistPhase.choices)
    position = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=255)
    done_at = models.DateTimeField("ticked at", null=True, blank=True)
    done_by = models.CharField("ticked by", max_length=150, blank=True)

    class Meta:
        ordering = ["pilot", "phase", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pilot", "key"], name="checklist_item_once_per_pilot")
        ]

    def __str__(self) -> str:
        return self.label

    def payload(self) -> dict[str, Any]:
        done_at = self.done_at.isoformat() if self.done_at else None
        return {"phase": self.phase, "key": self.key, "doneAt": done_at, "doneBy": self.done_by}


class BacklogEntry(models.Model):
    """What findings and follow-ups share: who owns it, how bad, where it stands."""

    title = models.CharField(max_length=255)
    details = models.TextField(blank=True)
    owner = models.CharField(max_length=150)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(
        max_length=16, choices=BacklogStatus.choices, default=BacklogStatus.OPEN
    )
    due_on = models.DateField("due date", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    def payload(self) -> dict[str, Any]:
        return {
            "title": self.title, "owner": self.owner, "severity": self.severity,
            "status": self.status, "dueOn": self.due_on.isoformat() if self.due_on else None,
        }  # fmt: skip


class Finding(BacklogEntry):
    """Something a pilot found wrong or missing."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="findings")

    class Meta:
        ordering = ["-created_at"]

    def payload(self) -> dict[str, Any]:
        follow_ups = [f.payload() for f in self.follow_ups.order_by("pk")]
        return {**super().payload(), "followUps": follow_ups}


class FollowUp(BacklogEntry):
    """Work filed to settle a finding."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="follow_ups")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "follow-up"
