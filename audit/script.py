"""One PostgreSQL transaction sent as few scripts as it can, for the audit writer.

Written plainly, a batch of call records waits for the server six times: BEGIN,
lock the chain head, insert, move the head, COMMIT (and psycopg's executemany
syncs on its own). Only a reading has to come back before the rest is sent:
when the writer reads the head, each row's hash starts from the head's hash. So
`ScriptCursor` queues the statements and sends them as one script (PostgreSQL's
simple query protocol takes several statements in one message) at the first
read, and the rest with COMMIT at the end: two waits for a batch that reads the
head, one for a batch chained on from where the writer left it (`audit.writer`).

The values are bound into the script on the client, as Django's own cursors
bind them (`psycopg.ClientCursor`). This costs the writer less than psycopg's
pipeline mode did for the same waits (its per-statement bookkeeping was most of
the writer's time in Python; docs/BENCHMARKS.md). A statement the server
refuses aborts the rest of its script; the error surfaces as Django's exception
(DataError, IntegrityError …, which the batcher tells apart), and the
transaction is rolled back before it goes on, so nothing of the batch is kept.
Inside a caller's transaction (Django's atomic block: sync callers, tests) the
writer keeps to Django's own transaction and cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def scripts(db: BaseDatabaseWrapper) -> bool:
    """Whether `db` takes a scripted transaction: PostgreSQL in autocommit."""
    return db.vendor == "postgresql" and db.get_autocommit() and not db.in_atomic_block


@contextmanager
def scripted_transaction(db: BaseDatabaseWrapper) -> Iterator[ScriptCursor]:
    """A `ScriptCursor` in one transaction, committed on leaving without an error."""
    import psycopg  # only PostgreSQL gets here

    db.ensure_connection()
    pg = db.connection
    with db.wrap_database_errors:
        cursor = ScriptCursor(psycopg.ClientCursor(pg))
        try:
            cursor.execute("BEGIN")
            yield cursor
            cursor.execute("COMMIT")
            cursor.send()
        except BaseException:
            # A script the server refused leaves its transaction open, aborted.
            if not pg.closed and pg.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                with suppress(psycopg.Error):  # a broken connection: closed by the caller
                    pg.rollback()
            raise
        finally:
            cursor.close()


class ScriptCursor:
    """Statements queued, then sent together: at a read, or when `send()` is called.

    `fetchall()` answers for the last statement queued before it. Statements
    use `%s` placeholders and hold no literal `%` (psycopg's rules, unchanged).
    """

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._statements: list[str] = []
        self._params: list[Any] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._statements.append(sql)
        self._params.extend(params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.execute(sql, row)

    def fetchall(self) -> list[Any]:
        self.send()
        while self._cursor.nextset():  # to the last statement's rows
            pass
        return self._cursor.fetchall()

    def send(self) -> None:
        """Send what is queued as one script and wait for its answer."""
        if self._statements:
            script, params = "; ".join(self._statements), self._params
            self._statements, self._params = [], []
            self._cursor.execute(script, params)

    def close(self) -> None:
        self._cursor.close()
