"""record_call: one record per call, group commit under load, nothing lost at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection
from django.test import override_settings

from audit.batcher import AuditWriteFailed, loop_batcher
from audit.chain import GENESIS_HASH, chain_hash
from audit.models import CallContent, CallRecord, ChainHead
from audit.services import flush_pending, record_call, record_call_sync
from audit.types import CallOutcome, CallRecordData
from audit.verification import run_verification
from tests.audit.factories import CallRecordDataFactory

T = TypeVar("T")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("audit_loop")]


async def _db(func: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run ORM code on a worker thread and close that thread's connection after,
    so no session outlives the test database."""

    def run() -> T:
        try:
            return func(*args, **kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(run)


def _count(**where: object) -> int:
    return CallRecord.objects.filter(**where).count()


@pytest.mark.parametrize("outcome", CallOutcome.values)
async def test_each_outcome_is_recorded_as_exactly_one_record(outcome):
    data = CallRecordDataFactory.build(request_id=f"req-{outcome}", outcome=outcome)

    await record_call(data)

    assert await _db(_count, request_id=f"req-{outcome}") == 1
    assert await _db(_count, request_id=f"req-{outcome}", outcome=outcome) == 1


async def test_records_are_chained_from_the_genesis_hash():
    await asyncio.gather(*(record_call(CallRecordDataFactory.build()) for _ in range(3)))

    rows = await _db(lambda: list(CallRecord.objects.order_by("seq")))
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    for before, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == before.row_hash
    assert all(row.row_hash == chain_hash(row.prev_hash, row.__dict__) for row in rows)
    head = await _db(ChainHead.objects.get)
    assert (head.seq, head.row_hash) == (3, rows[-1].row_hash)


async def test_two_thousand_concurrent_calls_store_two_thousand_rows_in_few_transactions():
    calls = [CallRecordDataFactory.build() for _ in range(2000)]

    await asyncio.gather(*(record_call(data) for data in calls))

    batcher = loop_batcher()
    assert await _db(CallRecord.objects.count) == 2000
    assert batcher.records == 2000
    assert batcher.batches < 2000 / 10  # group commit, not an INSERT per call
    seqs = await _db(lambda: list(CallRecord.objects.values_list("seq", flat=True)))
    assert sorted(seqs) == list(range(1, 2001))


async def test_flush_pending_writes_what_is_queued_when_the_server_stops():
    with override_settings(AUDIT_BATCH_MAX_DELAY_MS=60_000):
        waiters = [
            asyncio.ensure_future(record_call(CallRecordDataFactory.build())) for _ in range(5)
        ]
        await asyncio.sleep(0.01)
        assert await _db(CallRecord.objects.count) == 0

        await flush_pending()

    await asyncio.gather(*waiters)
    assert await _db(CallRecord.objects.count) == 5


async def test_a_cancelled_request_still_gets_its_record():
    waiter = asyncio.ensure_future(record_call(CallRecordDataFactory.build(request_id="gone")))
    await asyncio.sleep(0)
    waiter.cancel()

    await flush_pending()

    assert await _db(_count, request_id="gone") == 1


async def test_a_failed_batch_raises_in_every_waiting_request():
    def _make_the_next_seq_collide() -> None:
        ChainHead.objects.all().delete()
        ChainHead.objects.create(pk=1, seq=0, row_hash=GENESIS_HASH)
        record_call_sync(CallRecordDataFactory.build())  # seq 1 taken
        ChainHead.objects.filter(pk=1).update(seq=0)  # next batch reuses seq 1

    await _db(_make_the_next_seq_collide)

    results = await asyncio.gather(
        *(record_call(CallRecordDataFactory.build()) for _ in range(3)), return_exceptions=True
    )

    assert all(isinstance(result, AuditWriteFailed) for result in results)
    assert await _db(CallRecord.objects.count) == 1


async def test_a_failed_batch_is_rolled_back_whole_then_each_record_that_fits_is_stored():
    def _free_seq_2_but_not_3() -> None:
        for data in CallRecordDataFactory.build_batch(3):
            record_call_sync(data)
        CallRecord.objects.filter(seq=2).delete()
        first = CallRecord.objects.get(seq=1)
        ChainHead.objects.update(seq=1, row_hash=first.row_hash)

    await _db(_free_seq_2_but_not_3)
    with override_settings(AUDIT_BATCH_MAX_DELAY_MS=60_000):  # all three in one batch
        waiters = [
            asyncio.ensure_future(
                record_call(CallRecordDataFactory.build(request_id=f"r{n}", prompt_text="kept"))
            )
            for n in range(3)
        ]
        await asyncio.sleep(0)
        await flush_pending()
    results = await asyncio.gather(*waiters, return_exceptions=True)

    # The batch took seq 2 and collided at 3; had its rollback kept seq 2, the
    # first record written alone would have collided there too.
    assert [type(result) for result in results] == [type(None), AuditWriteFailed, AuditWriteFailed]
    stored = await _db(lambda: dict(CallRecord.objects.values_list("seq", "request_id")))
    assert sorted(stored) == [1, 2, 3] and stored[2] == "r0"
    assert await _db(CallContent.objects.count) == 1
    assert await _db(lambda: ChainHead.objects.values_list("seq", flat=True).get()) == 2
    await _db(lambda: ChainHead.objects.update(seq=3))  # past the collision
    await record_call(CallRecordDataFactory.build(request_id="after"))  # the writer goes on
    assert await _db(_count, request_id="after", seq=4) == 1


async def test_a_nul_character_sent_by_a_caller_is_stored_as_a_replacement_character():
    # PostgreSQL refuses NUL in text and JSON; the record must be stored all the same.
    await record_call(
        CallRecordDataFactory.build(
            request_id="nul", caller_tool="tool\x00", message="bad \x00 field",
            routing={"model\x00": ["a\x00"]}, prompt_text="p\x00", response_text="r",
        )
    )  # fmt: skip

    record = await _db(CallRecord.objects.select_related("content").get, request_id="nul")
    assert (record.caller_tool, record.message) == ("tool\ufffd", "bad \ufffd field")
    assert record.routing == {"model\ufffd": ["a\ufffd"]}
    assert record.content.prompt_text == "p\ufffd"
    assert (await _db(run_verification, actor="test")).ok


async def test_opted_in_texts_are_kept_apart_with_an_expiry():
    data = CallRecordDataFactory.build(
        request_id="kept", prompt_text="hello", response_text="hi", content_retention_days=7
    )

    await record_call(data)

    content = await _db(CallContent.objects.select_related("record").get)
    assert (content.prompt_text, content.response_text) == ("hello", "hi")
    assert 6.9 < (content.expires_at - content.record.recorded_at).total_seconds() / 86400 <= 7


def test_a_malformed_record_fails_in_its_caller():
    with pytest.raises(ValueError, match="Unknown call outcome"):
        CallRecordDataFactory.build(outcome="maybe")
    with pytest.raises(TypeError):
        CallRecordDataFactory.build(routing={"when": object()})


def test_record_call_sync_writes_one_record(db):
    record_call_sync(CallRecordDataFactory.build(request_id="sync"))

    assert CallRecord.objects.get(request_id="sync").seq == 1


def test_a_long_identifier_is_clipped_not_a_failed_batch(db):
    record_call_sync(CallRecordData(**{**_fields(), "request_id": "x" * 500}))

    assert len(CallRecord.objects.get().request_id) == 256


def _fields() -> dict[str, object]:
    data = CallRecordDataFactory.build()
    return {name: getattr(data, name) for name in data.__slots__}
