"""Group commit for async callers: many call records, one transaction.

Each event loop has one `Batcher`. `submit()` queues a record and awaits the
batch that carries it. A batch is written when `AUDIT_BATCH_MAX_RECORDS` records
are waiting or `AUDIT_BATCH_MAX_DELAY_MS` after its first record, whichever
comes first; records arriving while a batch is being written wait for the next
one, which starts as soon as the writer is free. So under load batches grow
and transactions per record fall, while a lone call waits a few milliseconds.

Batches are written on one thread per loop, which keeps one database connection
(no loop runs there, so Django's `connection` is that thread's own) and commit
order. The loop reaches it with plain `run_in_executor`: `sync_to_async` would
copy the caller's context on every hop, costing more and buying nothing here.
A failed batch closes the writer's connection; one the database refused for its
data is written again a record at a time, so `AuditWriteFailed` reaches only the
requests whose own record was refused.

A batcher never holds its loop (it asks for the running loop when it needs
one), so a loop that ends without its lifespan shutdown can still be collected;
a finalizer on the loop then closes the writer's connection and lets its thread
go. (The map of batchers is weak on its loops: were a batcher to keep its loop,
neither would ever be freed, a thread and a connection leaked per loop.)
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import DataError, IntegrityError, connection

from audit import metrics
from audit.checkpoints import Checkpointer, become_writer_thread, checkpoints_wanted
from audit.types import CallRecordData
from audit.writer import write_records

logger = logging.getLogger(__name__)
T = TypeVar("T")


class AuditWriteFailed(RuntimeError):
    """The batch carrying this call's record could not be stored."""


class Batcher:
    def __init__(self, *, max_records: int, max_delay: float) -> None:
        self.max_records = max_records
        self.max_delay = max_delay
        self.batches = 0  # committed transactions, for tests and the bench
        self.records = 0
        self._pending: list[tuple[CallRecordData, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="audit-writer", initializer=become_writer_thread
        )
        self._checkpointer = Checkpointer(self._executor) if checkpoints_wanted() else None
        self.released = False

    def _on_writer(self, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def submit(self, item: CallRecordData) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((item, future))
        metrics.QUEUED.inc()
        if self._flushing is None:  # a running flush takes the queue when it ends
            if len(self._pending) >= self.max_records:
                self._start_flush()
            elif self._timer is None:
                self._timer = loop.call_later(self.max_delay, self._start_flush)
        # A cancelled request (client gone) stops waiting; its record is still written.
        await future

    async def drain(self) -> None:
        """Write everything queued and wait for it."""
        while self._pending or self._flushing is not None:
            if self._flushing is None:
                self._start_flush()
            await asyncio.wait({self._flushing})

    async def close(self) -> None:
        await self.drain()
        await self._on_writer(_close_connection)
        self.release()

    def release(self) -> None:
        """Let the writer's thread (and the checkpointer's) end; from any thread."""
        if self.released:
            return
        self.released = True
        self._executor.shutdown(wait=False)
        if self._checkpointer is not None:
            self._checkpointer.close()

    def _start_flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch = self._pending[: self.max_records]
        del self._pending[: self.max_records]
        if batch:
            self._flushing = asyncio.get_running_loop().create_task(self._flush(batch))

    async def _flush(self, batch: list[tuple[CallRecordData, asyncio.Future[None]]]) -> None:
        metrics.QUEUED.dec(len(batch))
        started = time.perf_counter()
        try:
            await self._on_writer(write_records, [item for item, _ in batch])
        except BaseException as exc:
            metrics.FAILED_BATCHES.inc()
            logger.exception("Could not store a batch of %d call records", len(batch))
            await self._discard_connection()
            if not isinstance(exc, Exception):
                self._fail(batch, exc)
                raise
            if len(batch) > 1 and isinstance(exc, DataError | IntegrityError):
                # One record the database refuses must not cost its batch-mates
                # theirs. (A database that is down fails them all: no retry storm.)
                await self._write_one_by_one(batch)
            else:
                self._fail(batch, exc)
        else:
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
            metrics.BATCH_RECORDS.observe(len(batch))
            self.batches += 1
            self.records += len(batch)
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            if self._checkpointer is not None:
                self._checkpointer.batch_committed()
        finally:
            self._flushing = None
            if self._pending:
                self._start_flush()

    async def _write_one_by_one(
        self, batch: list[tuple[CallRecordData, asyncio.Future[None]]]
    ) -> None:
        for item, future in batch:
            try:
                await self._on_writer(write_records, [item])
            except Exception as exc:
                logger.exception("Could not store call record %r", item.request_id)
                await self._discard_connection()
                self._fail([(item, future)], exc)
            else:
                self.records += 1
                if not future.done():
                    future.set_result(None)

    @staticmethod
    def _fail(batch: list[tuple[CallRecordData, asyncio.Future[None]]], exc: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(AuditWriteFailed(f"Call record not stored: {exc!r}"))

    def abandon(self) -> None:
        """Its loop ended without `close()`: close the writer's connection, then release."""
        if not self.released:
            self._executor.submit(_close_connection)
            self.release()

    async def _discard_connection(self) -> None:
        # A broken connection must not fail every later batch too.
        try:
            await self._on_writer(_close_connection)
        except Exception:
            logger.exception("Could not close the audit writer's database connection")


def _close_connection() -> None:
    connection.close()  # resolved in the writer thread: its own connection


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batcher] = (
    weakref.WeakKeyDictionary()
)


def loop_batcher() -> Batcher:
    """The running loop's batcher, created on first use."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = Batcher(
            max_records=settings.AUDIT_BATCH_MAX_RECORDS,
            max_delay=settings.AUDIT_BATCH_MAX_DELAY_MS / 1000,
        )
        weakref.finalize(loop, batcher.abandon)
    return batcher


async def close_loop_batcher() -> None:
    """Write what the running loop's batcher holds, then release its thread."""
    batcher = _batchers.pop(asyncio.get_running_loop(), None)
    if batcher is not None:
        await batcher.close()
