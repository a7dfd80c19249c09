"""One PostgreSQL transaction in two round trips, for the audit writer's hot path.

Written plainly, a batch of call records waits for the server six times: BEGIN,
lock the chain head, insert, move the head, COMMIT (and psycopg's executemany
syncs on its own). Only the head's reading has to come back before the rest is
sent, since each row's hash starts from the head's hash. So here the connection
is in psycopg's pipeline mode: BEGIN and the head's lock go out together, the
reading comes back (a flush, not a sync: the transaction stays open, the head
locked), then the head's move, the inserts and COMMIT go out together and are
answered at the pipeline's sync. Two waits for the server, whatever the batch;
one when the writer chains on from where it left the head (`audit.writer`),
since then nothing has to come back before the rest is sent.

BEGIN and COMMIT are sent as statements because psycopg's own transaction block
syncs the pipeline at each end (two more waits). A statement the server refuses
aborts the rest of the pipeline; the error surfaces at the sync as Django's
exception (DataError, IntegrityError …, which the batcher tells apart), and the
transaction is rolled back before it goes on, so nothing of the batch is kept.
Inside a caller's transaction (Django's atomic block: sync callers, tests) the
writer keeps to Django's own transaction and cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def pipelines(db: BaseDatabaseWrapper) -> bool:
    """Whether `db` takes a pipelined transaction: PostgreSQL in autocommit."""
    return db.vendor == "postgresql" and db.get_autocommit() and not db.in_atomic_block


@contextmanager
def pipelined_transaction(db: BaseDatabaseWrapper) -> Iterator[Any]:
    """A psycopg cursor in one transaction, committed on leaving without an error."""
    import psycopg  # only PostgreSQL gets here

    db.ensure_connection()
    pg = db.connection
    with db.wrap_database_errors:
        try:
            with pg.pipeline(), pg.cursor() as cursor:
                cursor.execute("BEGIN")
                yield cursor
                cursor.execute("COMMIT")
        except BaseException:
            # The pipeline has synced: roll back what the server holds open.
            if not pg.closed and pg.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                with suppress(psycopg.Error):  # a broken connection: closed by the caller
                    pg.rollback()
            raise
