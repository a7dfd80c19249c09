"""The SQL that appends call records, built once from the models' `_meta`.

Values go through each field's `get_db_prep_save`, as in `bulk_create`, so the
rows stored are the ones the ORM would store, on SQLite and PostgreSQL alike.
A batch's records go in with one `executemany`, except a PostgreSQL batch of
several: there, as in `bulk_create`, one INSERT from UNNEST of one array per
column is planned once, where `executemany` would parse and plan every row
(about twice the server's CPU for a batch of 500).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Field

from audit.models import CallContent, CallRecord


def prepare_record(db: BaseDatabaseWrapper, values: dict[str, Any]) -> list[Any]:
    """A record's values as the database takes them, in `insert_records`' order."""
    return [prepare(values[name], db) for name, prepare in _sql().record_preparers]


def prepare_content(db: BaseDatabaseWrapper, seq: int, values: dict[str, Any]) -> list[Any]:
    """The texts of the record at `seq`, as `insert_contents` takes them."""
    fields = _sql().content_fields
    return [seq, *(field.get_db_prep_save(values[field.attname], db) for field in fields)]


def insert_records(cursor: CursorWrapper | Any, rows: Sequence[list[Any]]) -> None:
    sql = _sql()
    if sql.insert_record_columns and len(rows) > 1:
        columns = [list(column) for column in zip(*rows, strict=True)]
        cursor.execute(sql.insert_record_columns, columns)
    elif len(rows) == 1:  # a plain statement: executemany's own work buys nothing
        cursor.execute(sql.insert_record, rows[0])
    else:
        cursor.executemany(sql.insert_record, rows)


def insert_contents(cursor: CursorWrapper | Any, rows: Sequence[list[Any]]) -> None:
    if rows:
        cursor.executemany(_sql().insert_content, rows)


# Field types whose `get_db_prep_save` gives back a value of these types as it is.
_TAKEN_AS_IS = {
    "CharField": str, "TextField": str, "BooleanField": bool, "IntegerField": int,
    "BigIntegerField": int, "PositiveIntegerField": int, "PositiveSmallIntegerField": int,
}  # fmt: skip
Preparer = Callable[[Any, BaseDatabaseWrapper], Any]


def _preparer(field: Field) -> Preparer:
    """`field.get_db_prep_save`, skipped for a value it would return unchanged: most
    of a record's 31 values are text and numbers, and Django's chain of prep calls
    costs about a microsecond each on the hot path."""
    plain = _TAKEN_AS_IS.get(field.get_internal_type())
    if plain is None:
        return field.get_db_prep_save

    def prepare(value: Any, db: BaseDatabaseWrapper) -> Any:
        if value is None or type(value) is plain:
            return value
        return field.get_db_prep_save(value, db)

    return prepare


class _SQL(NamedTuple):
    record_fields: tuple[Field, ...]
    record_preparers: tuple[tuple[str, Preparer], ...]
    insert_record: str
    insert_record_columns: str | None  # PostgreSQL only
    content_fields: tuple[Field, ...]  # after the record's id, found by its seq
    insert_content: str


@cache
def _sql() -> _SQL:
    quote = connection.ops.quote_name
    record, content = CallRecord._meta, CallContent._meta
    record_fields = tuple(f for f in record.concrete_fields if not f.primary_key)
    content_fields = tuple(f for f in content.concrete_fields if not f.primary_key)
    record_id = (
        f"(SELECT {quote(record.pk.column)} FROM {quote(record.db_table)}"
        f" WHERE {quote(record.get_field('seq').column)} = %s)"
    )
    return _SQL(
        record_fields=record_fields,
        record_preparers=tuple((field.attname, _preparer(field)) for field in record_fields),
        insert_record=_insert(quote, record.db_table, record_fields),
        insert_record_columns=(
            _insert_columns(quote, record.db_table, record_fields)
            if connection.vendor == "postgresql"
            else None
        ),
        content_fields=content_fields,
        insert_content=_insert(
            quote, content.db_table, content_fields, first=(content.pk.column, record_id)
        ),
    )


def _insert(
    quote: Callable[[str], str],
    table: str,
    fields: tuple[Field, ...],
    first: tuple[str, str] | None = None,
) -> str:
    columns = [quote(field.column) for field in fields]
    values = ["%s"] * len(fields)
    if first is not None:  # a column whose value is an expression
        columns.insert(0, quote(first[0]))
        values.insert(0, first[1])
    return f"INSERT INTO {quote(table)} ({', '.join(columns)}) VALUES ({', '.join(values)})"


def _insert_columns(quote: Callable[[str], str], table: str, fields: tuple[Field, ...]) -> str:
    columns = ", ".join(quote(field.column) for field in fields)
    # varchar[] rather than varchar(64)[], as bulk_create does: nothing is cut.
    types = [field.db_type(connection).split("(")[0] for field in fields]
    arrays = ", ".join(f"(%s)::{db_type}[]" for db_type in types)
    return f"INSERT INTO {quote(table)} ({columns}) SELECT * FROM UNNEST({arrays})"
