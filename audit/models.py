"""The audit trail: call records in a hash chain, their optional texts, hourly
roll-ups, verifications and prune checkpoints. The governance rows (configuration
changes, trail entries, sign-offs, releases: `audit.governance_models`), pilots
(`audit.pilot_models`) and UAT runs (`audit.uat_models`) live beside them.

No row here points at another app's tables: client, provider and model are kept
as the names (and, where known, the integer ids) they had when the call was
made, so the trail survives renames and deletions elsewhere.
"""

from __future__ import annotations

from django.db import models

from audit.governance_models import (
    ChangeSource,
    ConfigChange,
    Release,
    SignOff,
    SignOffDecision,
    SignOffIsFinal,
    TrailEntry,
    default_release_roles,
)
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
    "ChangeSource",
    "ChecklistItem",
    "ConfigChange",
    "Dashboard",
    "Finding",
    "FollowUp",
    "HourlyRollup",
    "Pilot",
    "PilotContact",
    "PruneCheckpoint",
    "RefusalCount",
    "Release",
    "RollupState",
    "TrailEntry",
    "SignOff",
    "SignOffDecision",
    "SignOffIsFinal",
    "UatCheck",
    "UatRun",
    "default_release_roles",
]

# Upper bounds (ms) of the latency histogram kept per roll-up row; the last
# bucket holds everything slower. Each bucket is at most about a quarter wider
# than the one before, so a percentile read from them is within ~12 % of the
# exact value (and within 1 ms below 10 ms), however many calls an hour holds.
LATENCY_BUCKETS_MS = (
    1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250,
    300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000,
    10000, 12000, 15000, 20000, 25000, 30000, 40000, 50000, 60000, 80000, 100000, 120000,
)  # fmt: skip


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
    key_id = models.CharField(
        "key id", max_length=16, blank=True, default="", help_text="Empty: hashed before keys."
    )

    class Meta:
        ordering = ["-started_at", "-seq"]
        indexes = [
            # The list's order (newest first, then seq) and the export's keyset.
            models.Index(fields=["started_at", "seq"], name="callrecord_started_seq"),
            models.Index(fields=["recorded_at"], name="callrecord_recorded"),
            models.Index(fields=["request_id"], name="callrecord_request"),
            models.Index(fields=["trace_id"], name="callrecord_trace"),
            models.Index(fields=["client_name", "started_at"], name="callrecord_client"),
            models.Index(fields=["provider", "started_at"], name="callrecord_provider"),
            models.Index(fields=["model", "started_at"], name="callrecord_model"),
            models.Index(fields=["outcome", "started_at"], name="callrecord_outcome"),
            models.Index(fields=["method", "started_at"], name="callrecord_method"),
            models.Index(fields=["door", "started_at"], name="callrecord_door"),
            models.Index(fields=["source_address", "started_at"], name="callrecord_source"),
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
    """The last link of a chain: row 1 the call records', row 2 the governance
    trail's. Every writer locks its chain's row, so writers on every worker and
    host extend a chain one at a time."""

    seq = models.BigIntegerField(default=0)
    row_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head at {self.seq}"


class HourlyRollup(models.Model):
    """Calls of one hour with the same client, route, method and outcome, summed.
    The dashboard and usage figures read these rows, never the call records;
    `latency_buckets` counts calls per `LATENCY_BUCKETS_MS` bucket for p50/p95,
    and `estimated_*` the calls and tokens whose usage was estimated."""

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
    # Of the above, the calls whose usage the gateway estimated (`usage_estimated`).
    estimated_calls = models.PositiveIntegerField(default=0)
    estimated_tokens = models.BigIntegerField(default=0)

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
    """One check of the call-record chain and the governance trail: who or what
    ran it, whether both were intact, where its walk of the call records began
    (seq 1 for a whole walk, else just past the last verified point), the heads it
    checked (an anchor), and each problem found (edited, inserted, deleted rows).
    `seal` is an HMAC of those findings under a trail key (`audit.verified_points`):
    the next incremental check starts only from a sealed, clean verification."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    actor = models.CharField("run by", max_length=150)
    ok = models.BooleanField()
    records_checked = models.PositiveBigIntegerField(default=0)
    from_seq = models.BigIntegerField("walked from seq", default=1)
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    entries_checked = models.PositiveBigIntegerField("trail entries checked", default=0)
    trail_head_seq = models.BigIntegerField(default=0)
    trail_head_hash = models.CharField(max_length=64, blank=True)
    anchor = models.CharField("checked against anchor", max_length=200, blank=True)
    problems = models.JSONField(default=list, blank=True)
    key_id = models.CharField("key id", max_length=16, blank=True, default="")
    seal = models.CharField(max_length=64, blank=True, default="")

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


class RefusalCount(models.Model):
    """Requests refused before authentication (a bad token, a refused address, an
    address over its limit) in one minute from one source, counted rather than
    chained one row each: a host without a token cannot fill the trail."""

    minute = models.DateTimeField()
    source_address = models.CharField("source address", max_length=64)
    reason = models.CharField(max_length=32)
    token_prefix = models.CharField(
        "token prefix", max_length=16, blank=True, help_text="The first characters only."
    )
    method = models.CharField(max_length=16, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-minute", "source_address"]
        verbose_name = "refusal before authentication"
        verbose_name_plural = "refusals before authentication"
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "source_address", "reason", "token_prefix", "method"],
                name="refusalcount_unique_minute",
            )
        ]
        indexes = [models.Index(fields=["source_address", "minute"], name="refusal_source")]

    def __str__(self) -> str:
        return f"{self.count} × {self.reason} from {self.source_address} at {self.minute:%H:%M}"
