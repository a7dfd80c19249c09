"""A batcher per event loop, freed with its loop even when nobody closed it."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from audit.models import CallRecord
from audit.services import record_call
from tests.audit.factories import CallRecordDataFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _writers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("audit-writer")}


def _settle(before: set[threading.Thread]) -> set[threading.Thread]:
    """The writer threads started since `before` that are still alive after a while."""
    deadline = time.monotonic() + 5
    while (left := _writers() - before) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    return left


def test_a_loop_that_ends_without_closing_its_batcher_leaks_no_writer_thread():
    before = _writers()

    for _ in range(3):  # as a test's or a worker's loop ending without its shutdown
        asyncio.run(record_call(CallRecordDataFactory.build()))

    assert CallRecord.objects.count() == 3
    assert _settle(before) == set()
