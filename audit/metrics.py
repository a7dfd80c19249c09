"""What the call-record writer counts for Prometheus: records waiting for a batch,
records per committed batch, how long a batch takes, and failed batches."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUED = Gauge(
    "llmcaller_audit_queue_records",
    "Call records waiting for their batch, summed over live workers.",
    multiprocess_mode="livesum",
)
BATCH_RECORDS = Histogram(
    "llmcaller_audit_batch_records",
    "Call records per committed batch.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
BATCH_SECONDS = Histogram(
    "llmcaller_audit_batch_write_seconds",
    "Writing one batch of call records, commit included.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
FAILED_BATCHES = Counter("llmcaller_audit_batch_failures", "Batches that could not be stored.")
