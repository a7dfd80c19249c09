"""The audit trail: call records in a hash chain, their optional texts, hourly
roll-ups, verifications, prune checkpoints and configuration changes; pilots
(`audit.pilot_models`) and UAT runs (`audit.uat_models`) live beside them.

No row here points at another app's tables: client, provider and model are kept
as the names (and, where known, the integer ids) they had when the call was
made, so the trail survives renames and deletions elsewhere.
"""

from __future__ import annotations

from django.db import models

from audit.pilot_models import ChecklistItem, Finding, FollowUp, Pilot, PilotContact
from audit.types import CallDoor, CallMethod, CallOutcome
from audit.uat_models import UatCheck, UatRun

__all__ = [
    "AuditVerification",
    "CallContent",
    "CallDoor",
    "CallMethod",
    "CallOutcome",
    "CallRecord",
    "ChainHead",
    "ChecklistItem",
    "ConfigChange",
    "Dashboard",
    "Finding",
    "FollowUp",
    "HourlyRollup",
    "Pilot",
    "PilotContact",
    "PruneCheckpoint",
    "RollupState",
    "UatCheck",
    "UatRun",
]

# Upper bounds (ms) of the latency histogram kept per roll-up row; the last
# bucket holds everything slower.
LATENCY_BUCKETS_MS = (25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)


class CallRecord(models.Model):
    """One call a client made through the gateway, as it was routed and how it
    ended. Rows are written in batches and linked in a hash chain (`seq`,
    `prev_hash`, `row_hash`), so `manage.py verify_audit` can tell an edited,
    inserted or deleted row from an intact trail."""

    seq = models.BigIntegerField("chain position", unique=True)
    request_id = models.CharField("request id", max_length=256)
    trace_id = models.CharField("trace id", max_length=64, blank=True)
    client_id = models.BigIntegerField("client id", null=True, blank=True)
    client_name = models.CharField("client", max_length=128, blank=True)
    caller_tool = models.CharField(max_length=256, blank=True)
    method = models.CharField(max_length=16, choices=CallMethod.choices)
    door = models.CharField(max_length=16, choices=CallDoor.choices, default=CallDoor.V1)
    source_address = models.CharField("source address", max_length=64, blank=True)
    token_prefix = models.CharField(
        "token prefix", max_length=16, blank=True, help_text="The first characters only."
    )
    provider = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=255, blank=True)
    strategy = models.CharField("routing strategy", max_length=32, blank=True)
    routing = models.JSONField("routing decision", default=dict, blank=True)
    attempts = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=32, choices=CallOutcome.choices)
    error_class = models.CharField("error class", max_length=32, blank=True)
    message = models.CharField(
        max_length=255, blank=True, help_text="The message the caller got, when the call failed."
    )
    http_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    latency_ms = models.PositiveIntegerField("latency (ms)", default=0)
    ttft_ms = models.PositiveIntegerField("time to first token (ms)", null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    usage_estimated = models.BooleanField(
        "usage estimated", default=False, help_text="Counted by the gateway, not the upstream."
    )
    config_hash = models.CharField("configuration hash", max_length=64, blank=True)
    config_version = models.PositiveIntegerField("configuration version", null=True, blank=True)
    started_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    prev_hash = models.CharField("previous hash", max_length=64)
    row_hash = models.CharField("row hash", max_length=64)

    class Meta:
        ordering = ["-started_at", "-seq"]
        indexes = [
            models.Index(fields=["started_at"], name="callrecord_started"),
            models.Index(fields=["recorded_at"], name="callrecord_recorded"),
            models.Index(fields=["request_id"], name="callrecord_request"),
            models.Index(fields=["trace_id"], name="callrecord_trace"),
            models.Index(fields=["client_name", "started_at"], name="callrecord_client"),
            models.Index(fields=["client_id", "started_at"], name="callrecord_client_id"),
            models.Index(fields=["provider", "started_at"], name="callrecord_provider"),
            models.Index(fields=["model", "started_at"], name="callrecord_model"),
            models.Index(fields=["outcome", "started_at"], name="callrecord_outcome"),
            models.Index(fields=["method", "started_at"], name="callrecord_method"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.request_id} ({self.get_outcome_display()})"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class CallContent(models.Model):
    """The prompt and response of one call, kept only for clients that opted in
    and only until `expires_at`; `prune_audit` deletes it after that."""

    # DO_NOTHING: retention deletes contents before their records, which lets a
    # record delete be one SQL statement instead of a collect-then-cascade.
    record = models.OneToOneField(
        CallRecord, on_delete=models.DO_NOTHING, primary_key=True, related_name="content"
    )
    prompt_text = models.TextField(blank=True)
    response_text = models.TextField(blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "call contents"

    def __str__(self) -> str:
        return f"content of {self.record_id}"


class ChainHead(models.Model):
    """The last link of the call-record chain. Every batch writer locks this one
    row, so writers on every worker and host extend the chain one at a time."""

    seq = models.BigIntegerField(default=0)
    row_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head at {self.seq}"


class HourlyRollup(models.Model):
    """Calls of one hour with the same client, route, method and outcome, summed.
    The dashboard and usage figures read these rows, never the call records;
    `latency_buckets` counts calls per `LATENCY_BUCKETS_MS` bucket for p50/p95."""

    hour = models.DateTimeField()
    client_id = models.BigIntegerField(null=True, blank=True)
    client_name = models.CharField(max_length=128, blank=True)
    provider = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=255, blank=True)
    method = models.CharField(max_length=16, choices=CallMethod.choices)
    outcome = models.CharField(max_length=32, choices=CallOutcome.choices)
    error_class = models.CharField(max_length=32, blank=True)
    strategy = models.CharField(max_length=32, blank=True)
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    latency_sum_ms = models.BigIntegerField(default=0)
    latency_max_ms = models.PositiveIntegerField(default=0)
    latency_buckets = models.JSONField(default=list)

    class Meta:
        ordering = ["-hour"]
        indexes = [
            models.Index(fields=["hour"], name="rollup_hour"),
            models.Index(fields=["client_name", "hour"], name="rollup_client"),
            models.Index(fields=["client_id", "hour"], name="rollup_client_id"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.provider}/{self.model} {self.outcome}"


class RollupState(models.Model):
    """How far the roll-ups reach: every record recorded before `rolled_through`
    is counted in them; usage figures add the records recorded since."""

    rolled_through = models.DateTimeField()

    def __str__(self) -> str:
        return f"rolled up through {self.rolled_through:%Y-%m-%d %H:%M:%S}"


class Dashboard(HourlyRollup):
    """The audit dashboard in the admin: a picture of the hourly roll-ups."""

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard"


class AuditVerification(models.Model):
    """One check of the whole call-record chain: who or what ran it, whether the
    trail was intact, and each problem found (edited, inserted, deleted rows)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    actor = models.CharField("run by", max_length=150)
    ok = models.BooleanField()
    records_checked = models.PositiveBigIntegerField(default=0)
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        state = "intact" if self.ok else f"{len(self.problems)} problem(s)"
        return f"verification {self.started_at:%Y-%m-%d %H:%M} — {state}"


class PruneCheckpoint(models.Model):
    """A retention run: the chain position and hash of the last record it deleted,
    so the records that survive it still verify from there."""

    created_at = models.DateTimeField()
    actor = models.CharField("run by", max_length=150)
    cutoff = models.DateTimeField(help_text="Records recorded before this were deleted.")
    seq = models.BigIntegerField("last deleted position")
    row_hash = models.CharField("last deleted hash", max_length=64)
    records_deleted = models.PositiveBigIntegerField(default=0)
    contents_deleted = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-seq"]
        get_latest_by = "seq"

    def __str__(self) -> str:
        return f"pruned through {self.seq} at {self.created_at:%Y-%m-%d %H:%M}"


class ConfigChange(models.Model):
    """One change to the gateway's configuration: who made it, to what, and the
    object before and after, with every secret-looking value masked."""

    created_at = models.DateTimeField(db_index=True)
    actor_name = models.CharField("actor", max_length=150)
    request_id = models.CharField("request id", max_length=128, blank=True)
    object_repr = models.CharField("object", max_length=255)
    action = models.CharField(max_length=32)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr} by {self.actor_name}"
