"""On PostgreSQL the writer chains a batch on from where it left the head, in one
exchange with the server, and reads the head again when anyone else moved it."""

from __future__ import annotations

import os
import tempfile
import threading

import psycopg
import pytest
from django.db import connection

from audit.models import CallRecord, ChainHead
from audit.verification import run_verification
from audit.writer import write_records
from tests.audit.factories import CallRecordDataFactory
from tests.audit.record_calls import start_workers

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="PostgreSQL only (CI runs the suite again with DATABASE_URL on PostgreSQL)",
    ),
    pytest.mark.django_db(transaction=True),  # the writer's own path: autocommit
]


def _waits(batch: int) -> tuple[range, int]:
    """Write a batch; return its seqs and how often the writer waited for the
    server (a script sent each time: a Query message in libpq's trace)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            written = write_records(CallRecordDataFactory.build_batch(batch))
        finally:
            pgconn.untrace()
        trace.seek(0)
        sent = [line.split("\t") for line in trace.read().splitlines()]
    return written, sum(1 for line in sent if line[0] == "F" and line[2] == "Query")


def _another_writer(batch: int) -> None:
    """A batch from another thread, on its own connection, as another worker's."""

    def write() -> None:
        try:
            write_records(CallRecordDataFactory.build_batch(batch))
        finally:
            connection.close()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()


def _seqs() -> list[int]:
    return list(CallRecord.objects.order_by("seq").values_list("seq", flat=True))


def test_after_its_first_batch_a_writer_waits_for_the_server_once_a_batch():
    write_records(CallRecordDataFactory.build_batch(1))  # the trail's head exists
    connection.close()  # and a new connection knows nothing of it

    assert _waits(2) == (range(2, 4), 2)  # the head read and locked, then the rest
    assert _waits(3) == (range(4, 7), 1)
    assert _waits(1) == (range(7, 8), 1)
    assert _seqs() == list(range(1, 8))
    assert run_verification(actor="test").ok


def test_a_head_another_writer_moved_is_read_again_and_nothing_is_lost():
    write_records(CallRecordDataFactory.build_batch(2))
    _another_writer(3)

    written, waits = _waits(2)

    assert (written, waits) == (range(6, 8), 4)  # a script refused, its ROLLBACK, then two
    assert _waits(1) == (range(8, 9), 1)  # and chaining on from there again
    assert _seqs() == list(range(1, 9))
    assert run_verification(actor="test").ok


def test_a_trail_emptied_under_the_writer_starts_again_from_its_genesis():
    write_records(CallRecordDataFactory.build_batch(3))
    tables = ", ".join(model._meta.db_table for model in (CallRecord, ChainHead))
    with connection.cursor() as cursor:  # as a restore into an empty database would
        cursor.execute(f"TRUNCATE {tables} CASCADE")

    assert write_records(CallRecordDataFactory.build_batch(2)) == range(1, 3)
    assert _seqs() == [1, 2]
    assert run_verification(actor="test", full=True).ok


def test_two_worker_processes_extend_one_gap_free_chain_on_postgresql():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "LLMCALLER_LOG_LEVEL": "WARNING"}
    calls = 400

    workers = start_workers(env, count=2, calls=calls, concurrency=4)  # small batches, often

    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    assert _seqs() == list(range(1, 2 * calls + 1))
    assert run_verification(actor="test").ok
