"""Turns for the audit writers of every process that shares one SQLite file.

Each worker process has its own writer thread, and SQLite lets one connection
write at a time. A writer that finds the file locked sleeps in SQLite's busy
handler, 1, 2, 5, 10 … 100 ms, without waking when the lock comes free, so a
call record could wait 100–200 ms for a lock released long before. Writers
therefore queue on an `flock` of a file beside the database first: a blocked
`flock` returns the moment its holder lets go. PostgreSQL queues lock waiters
itself, and an in-memory database has one process, so neither takes a turn.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper


@contextmanager
def write_turn(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Hold this process's turn to write audit records through `connection`;
    enter it before the transaction starts and leave it after the commit."""
    path = _lock_path(connection)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def is_sqlite_file(db: BaseDatabaseWrapper) -> bool:
    """Whether `db` is SQLite on a file, which several processes can share."""
    return db.vendor == "sqlite" and not db.is_in_memory_db()


def _lock_path(connection: BaseDatabaseWrapper) -> str | None:
    if not is_sqlite_file(connection):
        return None
    # Inside a caller's transaction SQLite's write lock is held already, so
    # waiting for the file could stall a writer that holds it and waits for us.
    if connection.in_atomic_block:
        return None
    return f"{connection.settings_dict['NAME']}-audit-lock"
