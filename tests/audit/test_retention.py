"""prune_audit: old records and expired texts go, the chain still verifies, the prune is audited."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import CallContent, CallRecord, ConfigChange, HourlyRollup, PruneCheckpoint
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db


def _age(records: list[CallRecord], days: int) -> None:
    when = timezone.now() - timedelta(days=days)
    CallRecord.objects.filter(pk__in=[r.pk for r in records]).update(recorded_at=when)


def test_pruning_leaves_a_chain_that_still_verifies():
    old = CallRecordFactory.create_batch(4)
    new = CallRecordFactory.create_batch(3)
    # recorded_at is audited; ageing rows by hand would read as edits, so skip the pre-check.
    _age(old, days=40)

    call_command("prune_audit", "--older-than", "30", "--skip-verify", stdout=StringIO())

    assert list(CallRecord.objects.order_by("seq").values_list("pk", flat=True)) == [
        r.pk for r in new
    ]
    checkpoint = PruneCheckpoint.objects.get()
    assert (checkpoint.seq, checkpoint.records_deleted) == (4, 4)
    assert ConfigChange.objects.get(action="prune").actor_name == "prune_audit command"
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit trail intact: 3 records checked" in out.getvalue()


def test_pruning_keeps_the_numbers_in_the_roll_ups():
    old = CallRecordFactory.create_batch(2, input_tokens=10, output_tokens=5)
    _age(old, days=40)

    call_command("prune_audit", "--older-than", "30", "--skip-verify", stdout=StringIO())

    assert not CallRecord.objects.exists()
    assert sum(r.calls for r in HourlyRollup.objects.all()) == 2


def test_expired_texts_go_and_kept_ones_stay():
    kept = CallRecordFactory(prompt_text="keep", content_retention_days=30)
    gone = CallRecordFactory(prompt_text="drop", content_retention_days=1)
    CallContent.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    call_command("prune_audit", "--older-than", "30", stdout=StringIO())

    assert list(CallContent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert CallRecord.objects.count() == 2


def test_a_broken_chain_stops_the_prune_so_evidence_stays():
    records = CallRecordFactory.create_batch(3)
    CallRecord.objects.filter(pk=records[0].pk).update(input_tokens=999)

    with pytest.raises(CommandError, match="Nothing pruned"):
        call_command("prune_audit", "--older-than", "1", stdout=StringIO())

    assert CallRecord.objects.count() == 3
