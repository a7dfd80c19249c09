"""SQLite's WAL checkpoints, run by the audit writer after its callers are answered.

In WAL mode SQLite copies the log back into the database file (a checkpoint)
inside the commit that takes the log past 1,000 pages, and every call waiting
on that commit waits for the copy too. A batch of one call record writes about
16 pages (the row and its twelve indexes), so one call in ~60 waited a few
milliseconds more: the gateway's p99 at concurrency 1. The audit writer's thread
therefore turns automatic checkpoints off on its connection, and its batcher
has a `Checkpointer` run a passive checkpoint every `CHECKPOINT_BATCHES`
batches, on a thread and connection of its own: in WAL mode the copy runs beside
the writer's next commits instead of ahead of them. Other connections (the
admin, commands) keep SQLite's automatic checkpoints; PostgreSQL needs none of this.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from audit.writelock import is_sqlite_file

logger = logging.getLogger(__name__)

CHECKPOINT_BATCHES = 40  # ~650 pages at batches of one, ~1,100 at batches of 25

_thread = threading.local()


def checkpoints_wanted() -> bool:
    return is_sqlite_file(connections[DEFAULT_DB_ALIAS])


def become_writer_thread() -> None:
    """Mark the calling thread as an audit writer (an executor's initializer)."""
    _thread.is_writer = True


class Checkpointer:
    """The bulk of each checkpoint on a thread of its own, then a short catch-up
    on the writer's thread: SQLite starts the log afresh only for a writer that
    finds every frame copied, which a copy running beside a busy writer never
    achieves on its own (the log would grow without bound under steady load)."""

    def __init__(self, writer: ThreadPoolExecutor) -> None:
        self._writer = writer
        self._batches = 0
        self._running: Future[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-checkpoint")

    def batch_committed(self) -> None:
        self._batches += 1
        if self._running is not None:
            if self._running.done():
                self._running = None
                self._writer.submit(checkpoint)  # a few frames: those since the bulk copy
        elif self._batches >= CHECKPOINT_BATCHES:
            self._batches = 0
            self._running = self._executor.submit(checkpoint)

    def close(self) -> None:
        self._executor.submit(_close_connection)
        self._executor.shutdown(wait=False)


def checkpoint() -> None:
    """A passive checkpoint on this thread's connection; a failure waits for the next."""
    db = connections[DEFAULT_DB_ALIAS]
    try:
        db.ensure_connection()
        db.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except Exception:
        logger.exception("SQLite WAL checkpoint failed; the next one will catch up")


def _close_connection() -> None:
    connections[DEFAULT_DB_ALIAS].close()  # this thread's own


@receiver(connection_created)
def _manual_checkpoints(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    if getattr(_thread, "is_writer", False) and is_sqlite_file(connection):
        connection.connection.execute("PRAGMA wal_autocheckpoint=0")
