"""write_records: the rows the ORM would store, chained, and all or nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from audit.chain import GENESIS_HASH, chain_hash
from audit.models import CallContent, CallRecord, ChainHead
from audit.verification import run_verification
from audit.writer import write_records
from tests.audit.factories import CallRecordDataFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
FIELDS = [f for f in CallRecord._meta.concrete_fields if not f.primary_key]
CHAIN = ("seq", "recorded_at", "prev_hash", "row_hash", "key_id")
GIVEN = [f.attname for f in FIELDS if f.attname not in CHAIN]  # what a CallRecordData holds


def _every_field_set():
    return CallRecordDataFactory.build(
        request_id="r" * 300,  # clipped to 256
        client_id=2**40,
        client_name="Zoë's notebook",
        routing={"capability": "chat", "score": 0.75, "weights": [1.0, 2.5], "why": "naïve ✓"},
        attempts=[{"provider": "lms", "latency_ms": 12, "ok": True, "error": None}],
        error_class="TEMPORARY",
        http_status=503,
        latency_ms=1234,
        ttft_ms=56,
        started_at=datetime(2026, 3, 29, 0, 30, 0, 1, tzinfo=BERLIN),  # the 28th in UTC
    )


def _write_with_the_orm(items):
    """The writer as it was before raw SQL and keys: what rows already in a trail
    look like (unkeyed, their hash over the fields audited then)."""
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "row_hash": GENESIS_HASH}
        )
        rows = []
        for item in items:
            values = {name: getattr(item, name) for name in GIVEN}
            values["request_id"] = values["request_id"][:256]
            row = CallRecord(**values, recorded_at=datetime.now(tz=BERLIN))
            row.seq = head.seq = head.seq + 1
            row.prev_hash = head.row_hash
            row.row_hash = head.row_hash = chain_hash(row.prev_hash, row.__dict__)
            rows.append(row)
        CallRecord.objects.bulk_create(rows)
        head.save()
    return rows


def _stored(seq):
    """The row as the database holds it, as text, id and seq left out."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"CAST({quote(f.column)} AS TEXT)" for f in FIELDS if f.name != "seq")
    with connection.cursor() as cursor:
        table = quote(CallRecord._meta.db_table)
        cursor.execute(f"SELECT {columns} FROM {table} WHERE seq = %s", [seq])
        return cursor.fetchone()


@pytest.mark.parametrize("size", [1, 3], ids=["one record", "a batch"])
def test_rows_are_stored_exactly_as_the_orm_stores_them(size):
    # PostgreSQL inserts a batch of several from column arrays: check both ways.
    sparse = CallRecordDataFactory.build(
        client_id=None, http_status=None, ttft_ms=None, config_version=None, routing={}
    )
    items = [_every_field_set(), sparse, _every_field_set()][:size]

    written = write_records(items)
    twins = _write_with_the_orm(items)

    for seq, twin in zip(written, twins, strict=True):
        row = CallRecord.objects.get(seq=seq)
        CallRecord.objects.filter(pk=twin.pk).update(
            recorded_at=row.recorded_at,
            prev_hash=row.prev_hash,
            row_hash=row.row_hash,
            key_id=row.key_id,
        )
        # Compared as the database holds them, so a datetime or JSON text stored
        # in another format shows even where both read back as equal values.
        assert _stored(seq) == _stored(twin.seq)


def test_a_row_reads_back_with_every_value_it_was_given():
    item = _every_field_set()

    (seq,) = write_records([item])

    row = CallRecord.objects.get(seq=seq)
    for name in GIVEN:
        expected = getattr(item, name)
        assert getattr(row, name) == (expected[:256] if name == "request_id" else expected), name
    assert row.recorded_at.tzinfo is not None
    assert row.prev_hash == GENESIS_HASH
    assert row.row_hash == chain_hash(row.prev_hash, row.__dict__)


def test_the_chain_verifies_across_unkeyed_rows_and_the_keyed_rows_after_them():
    _write_with_the_orm(CallRecordDataFactory.build_batch(3))
    _write_with_the_orm([_every_field_set()])
    write_records(CallRecordDataFactory.build_batch(4))
    write_records([_every_field_set()])

    assert list(CallRecord.objects.order_by("seq").values_list("seq", flat=True)) == [*range(1, 10)]
    assert list(CallRecord.objects.order_by("seq").values_list("key_id", flat=True)) == (
        [""] * 4 + ["test-2026"] * 5
    )
    assert run_verification(actor="test").ok
    head = ChainHead.objects.get()
    assert (head.seq, head.row_hash) == (9, CallRecord.objects.get(seq=9).row_hash)


@override_settings(AUDIT_CONTENT_RETENTION_DAYS=30)
def test_texts_land_with_their_own_record_and_expiry():
    items = [
        CallRecordDataFactory.build(request_id="kept", prompt_text="hi", content_retention_days=7),
        CallRecordDataFactory.build(request_id="not-kept"),
        CallRecordDataFactory.build(request_id="kept-default", response_text="hello"),
    ]

    write_records(items)

    contents = {c.record.request_id: c for c in CallContent.objects.select_related("record")}
    assert set(contents) == {"kept", "kept-default"}
    kept, default = contents["kept"], contents["kept-default"]
    assert (kept.prompt_text, kept.response_text) == ("hi", "")
    assert (default.prompt_text, default.response_text) == ("", "hello")
    assert kept.expires_at == kept.record.recorded_at + timedelta(days=7)
    assert default.expires_at == default.record.recorded_at + timedelta(days=30)


def test_a_new_trail_gets_its_head_from_the_first_batch():
    assert not ChainHead.objects.exists()

    assert write_records(CallRecordDataFactory.build_batch(2)) == range(1, 3)

    assert ChainHead.objects.values_list("seq", flat=True).get() == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_batch_is_all_or_nothing_and_the_writer_goes_on():
    # The audit writer's own thread is in autocommit: on PostgreSQL its batches
    # go out as scripts (audit.script), their errors included.
    (first,) = write_records([CallRecordDataFactory.build(request_id="first")])
    head = CallRecord.objects.get(seq=first).row_hash
    ChainHead.objects.update(seq=0, row_hash=GENESIS_HASH)  # the next batch collides at seq 1

    with pytest.raises(IntegrityError):
        write_records([CallRecordDataFactory.build(prompt_text="kept") for _ in range(2)])

    assert list(CallRecord.objects.values_list("request_id", flat=True)) == ["first"]
    assert not CallContent.objects.exists()
    ChainHead.objects.update(seq=first, row_hash=head)
    assert write_records(CallRecordDataFactory.build_batch(3)) == range(2, 5)
    assert write_records([_every_field_set()]) == range(5, 6)
    assert run_verification(actor="test").ok
