"""UAT runs kept as evidence: every check of one `run_uat` (or the pilot page's
"Run UAT"), how it went, the configuration the gateway answered with, and in a
rehearsal the fault rules that were active and how the gateway answered each.

Sign-offs and evidence packs refer to a run as subject kind
`UatRun.SUBJECT_KIND` ("uat_run") with `subject_id` = its primary key as text,
and hash `UatRun.canonical_payload()`. A run is written once by
`audit.pilots.record_uat_run` and never changed.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from audit.pilot_models import Pilot


class UatTrigger(models.TextChoices):
    COMMAND = "command", "manage.py run_uat"
    ADMIN = "admin", "admin"


class UatRun(models.Model):
    """One acceptance run against a gateway. `fault_rules` lists each fault rule
    active during the run, with `answers`: every UAT call whose attempts met it,
    as the gateway answered (HTTP status, error, strategy, outcome)."""

    SUBJECT_KIND = "uat_run"

    pilot = models.ForeignKey(
        Pilot, on_delete=models.PROTECT, null=True, blank=True, related_name="uat_runs"
    )
    phase = models.CharField("pilot status then", max_length=16, blank=True)
    trigger = models.CharField(max_length=16, choices=UatTrigger.choices)
    actor = models.CharField("run by", max_length=150)
    gateway_url = models.CharField("gateway", max_length=255)
    client_name = models.CharField("client", max_length=128, blank=True)
    caller_tool = models.CharField(max_length=256)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    passed = models.BooleanField(help_text="No check failed.")
    checks_passed = models.PositiveSmallIntegerField(default=0)
    checks_failed = models.PositiveSmallIntegerField(default=0)
    checks_skipped = models.PositiveSmallIntegerField(default=0)
    config_hash = models.CharField("configuration hash", max_length=64, blank=True)
    config_version = models.PositiveIntegerField("configuration version", null=True, blank=True)
    faults_enabled = models.BooleanField("fault injection on", default=False)
    fault_rules = models.JSONField("active fault rules", default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "UAT run"
        permissions = [("run_uat", "Can run UAT against the gateway")]

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"UAT {self.started_at:%Y-%m-%d %H:%M:%S} — {verdict}"

    @property
    def subject_id(self) -> str:
        return str(self.pk)

    def canonical_payload(self) -> dict[str, Any]:
        """What a sign-off or an evidence pack citing this run hashes."""
        return {
            "kind": self.SUBJECT_KIND, "id": self.subject_id,
            "pilot": self.pilot.name if self.pilot_id else None, "phase": self.phase,
            "trigger": self.trigger, "actor": self.actor, "gateway": self.gateway_url,
            "client": self.client_name, "callerTool": self.caller_tool,
            "startedAt": self.started_at.isoformat(), "finishedAt": self.finished_at.isoformat(),
            "passed": self.passed, "configHash": self.config_hash,
            "configVersion": self.config_version, "faultsEnabled": self.faults_enabled,
            "faultRules": self.fault_rules,
            "checks": [c.payload() for c in self.checks.order_by("position")],
        }  # fmt: skip


class UatCheck(models.Model):
    """One check of a run: its outcome, what it saw, how long it took."""

    run = models.ForeignKey(UatRun, on_delete=models.CASCADE, related_name="checks")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64)
    status = models.CharField(max_length=16)  # passed, failed, skipped
    detail = models.CharField(max_length=500, blank=True)
    elapsed_ms = models.FloatField("time (ms)")
    request_ids = models.JSONField("request ids", default=list, blank=True)

    class Meta:
        ordering = ["run", "position"]
        verbose_name = "UAT check"

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"

    def payload(self) -> dict[str, Any]:
        return {
            "name": self.name, "status": self.status, "detail": self.detail,
            "elapsedMs": round(self.elapsed_ms, 3), "requestIds": self.request_ids,
        }  # fmt: skip
