"""A cache one machine's workers share without Redis: a small SQLite file per cache.

Several workers on the embedded default must count one client's limits, stream
slots and budget together and see one circuit per provider, or a client gets N
times its limits. Django's own database cache over the embedded SQLite file did
that at 14 ms a call (the ORM, several statements per operation, and every write
behind the lock the audit writer takes: docs/BENCHMARKS.md). This backend keeps
each cache in a file of its own and speaks one SQL statement per operation
(about 10 µs for a rate counter's add and incr, measured by
`bench/control_state.py`):

- the file is in WAL mode, so readers never wait, with `synchronous=OFF`: what
  it holds is control state, and a power cut that loses the last writes costs
  a fresh rate window, never a call record (those live in the database);
- writers of every process take turns on an `flock` of `<file>.lock` before
  writing: the kernel wakes the next writer as soon as the lock is free, where
  SQLite's busy handler would sleep for milliseconds;
- integers are stored as SQLite integers, so `incr` is one atomic UPDATE; any
  other value is pickled, as Django's own backends do;
- expired entries are swept, and the oldest culled past MAX_ENTRIES, every
  SWEEP_EVERY writes of a process;
- a failure of the file (a full disk, say) is raised as CacheUnavailable, so
  each caller degrades as it does when Redis does not answer.

It is for one machine: workers on other hosts do not see the file, and share
through Redis instead (REDIS_URL; docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import fcntl
import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from llmcaller.metrics import CACHE_ERRORS
from llmcaller.redis_cache import CacheUnavailable

NEVER = 1e300  # the expiry of an entry set with timeout=None
SWEEP_EVERY = 1_000  # writes of one process between sweeps of expired entries
_INT64 = (-(2**63), 2**63 - 1)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries ("
    "key TEXT PRIMARY KEY, value, expires REAL NOT NULL) WITHOUT ROWID"
)


class _File:
    """One process's connection to one cache file, and the lock its writers share."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self.guard = threading.Lock()  # the connection is shared by this process's threads
        self.writes = 0
        with self.writing():
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            os.chmod(path, 0o600)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=OFF")
            self.db.execute(_SCHEMA)

    @contextmanager
    def writing(self):
        fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.lock_fd, fcntl.LOCK_UN)


_files: dict[str, _File] = {}
_files_guard = threading.Lock()
# A forked child opens its own: SQLite connections and locks do not cross a fork.
os.register_at_fork(after_in_child=_files.clear)


def _file(path: Path) -> _File:
    """The process's connection to `path`, opened at its first use."""
    key = str(path)
    opened = _files.get(key)
    if opened is None:
        with _files_guard:
            opened = _files.get(key)
            if opened is None:
                opened = _files[key] = _File(path)
    return opened


@contextmanager
def _answering(path: Path, operation: str) -> Iterator[_File]:
    """The file, with its failures (a full disk, a directory it cannot create) raised
    as CacheUnavailable: callers degrade as they do when Redis does not answer."""
    try:
        yield _file(path)
    except (sqlite3.Error, OSError) as exc:
        CACHE_ERRORS.labels(operation).inc()
        raise CacheUnavailable(f"the machine cache at {path} failed: {exc}") from exc


def _stored(value: Any) -> Any:
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _loaded(value: Any) -> Any:
    return pickle.loads(value) if isinstance(value, bytes) else value


class MachineCache(BaseCache):
    """Django's cache API over a SQLite file that every worker of the machine opens."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.path = Path(location)
        self.clock: Callable[[], float] = time.time  # tests set it to move time along

    # --- reading ---------------------------------------------------------------

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        row = self._read("SELECT value FROM entries WHERE key = ? AND expires > ?", key)
        return default if not row else _loaded(row[0][0])

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        names = {self.make_and_validate_key(key, version=version): key for key in keys}
        if not names:
            return {}
        marks = ",".join("?" * len(names))
        rows = self._read(
            f"SELECT key, value FROM entries WHERE key IN ({marks}) AND expires > ?", *names
        )
        return {names[name]: _loaded(value) for name, value in rows}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(self._read("SELECT 1 FROM entries WHERE key = ? AND expires > ?", key))

    # --- writing ---------------------------------------------------------------

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        # An expired entry counts as absent: the upsert replaces it, a live one stays.
        changed, _ = self._write(
            "INSERT INTO entries VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = excluded.value, expires = excluded.expires WHERE entries.expires <= ?",
            key, _stored(value), self._expires(timeout), self.clock(),
        )  # fmt: skip
        return bool(changed)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._write(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
            key, _stored(value), self._expires(timeout),
        )  # fmt: skip

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        expires = self._expires(timeout)
        rows = [
            (self.make_and_validate_key(key, version=version), _stored(value), expires)
            for key, value in data.items()
        ]
        self._write_many("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
        return []

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        changed, _ = self._write(
            "UPDATE entries SET expires = ? WHERE key = ? AND expires > ?",
            self._expires(timeout), key, self.clock(),
        )  # fmt: skip
        return bool(changed)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        _, rows = self._write(
            "UPDATE entries SET value = value + ? WHERE key = ? AND expires > ? "
            "AND typeof(value) = 'integer' RETURNING value",
            delta, key, self.clock(),
        )  # fmt: skip
        if not rows:
            raise ValueError(f"Key '{key}' not found.")
        return rows[0][0]

    def incr_existing_many(self, deltas: dict[Any, int], version: int | None = None) -> None:
        """Add to each counter that exists, in one transaction (`count_usage`)."""
        now = self.clock()
        rows = [
            (delta, self.make_and_validate_key(key, version=version), now)
            for key, delta in deltas.items()
        ]
        self._write_many(
            "UPDATE entries SET value = value + ? WHERE key = ? AND expires > ? "
            "AND typeof(value) = 'integer'",
            rows,
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        changed, _ = self._write("DELETE FROM entries WHERE key = ?", key)
        return bool(changed)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        rows = [(self.make_and_validate_key(key, version=version),) for key in keys]
        self._write_many("DELETE FROM entries WHERE key = ?", rows)

    def clear(self) -> None:
        self._write("DELETE FROM entries")

    # --- the file --------------------------------------------------------------

    def _expires(self, timeout: Any) -> float:
        expires = self.get_backend_timeout(timeout)
        return NEVER if expires is None else expires

    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> float | None:
        # As Django's own, on the backend's clock: 0 means already expired.
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        elif timeout == 0:
            timeout = -1
        return None if timeout is None else self.clock() + timeout

    def _read(self, sql: str, *args: Any) -> list[tuple]:
        with _answering(self.path, "read") as file, file.guard:
            return file.db.execute(sql, (*args, self.clock())).fetchall()

    def _write(self, sql: str, *args: Any) -> tuple[int, list[tuple]]:
        """Rows changed, and any a RETURNING clause gave (read before the statement ends)."""
        with _answering(self.path, "write") as file, file.guard, file.writing():
            cursor = file.db.execute(sql, args)
            rows = cursor.fetchall()
            changed = cursor.rowcount
            self._sweep(file)
        return changed, rows

    def _write_many(self, sql: str, rows: list[tuple]) -> None:
        if not rows:
            return
        with _answering(self.path, "write") as file, file.guard, file.writing():
            file.db.execute("BEGIN")
            try:
                file.db.executemany(sql, rows)
            except BaseException:
                file.db.execute("ROLLBACK")
                raise
            file.db.execute("COMMIT")
            self._sweep(file)

    def _sweep(self, file: _File) -> None:
        """Drop expired entries, and the soonest to expire past MAX_ENTRIES (under the lock)."""
        file.writes += 1
        if file.writes % SWEEP_EVERY:
            return
        file.db.execute("DELETE FROM entries WHERE expires <= ?", (self.clock(),))
        (count,) = file.db.execute("SELECT count(*) FROM entries").fetchone()
        if count > self._max_entries:
            excess = count - self._max_entries + self._max_entries // self._cull_frequency
            file.db.execute(
                "DELETE FROM entries WHERE key IN "
                "(SELECT key FROM entries ORDER BY expires LIMIT ?)",
                (excess,),
            )
