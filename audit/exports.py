"""CSV export of call records, streamed a chunk at a time, for QA's spreadsheets.

Rows are read in keyset pages, newest first as the list shows them (by
`started_at`, then `seq`, the order of the `callrecord_started` index, so each
page starts where the last ended instead of re-reading the rows before it),
rather than through one long-lived cursor, so the export streams under ASGI (an
async iterator, each page read on the request's thread) and under WSGI or the
test client (a plain iterator), and memory stays flat however many rows match.
Cells that a spreadsheet would run
as a formula are prefixed with an apostrophe. Timestamps are ISO 8601 with
milliseconds and the UTC offset.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Q, QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from audit.models import CallRecord

COLUMNS = (
    "id", "seq", "started_at", "recorded_at", "request_id", "trace_id", "client_id",
    "client_name", "caller_tool", "door", "source_address", "token_prefix", "method",
    "provider", "model", "strategy", "outcome", "error_class", "message", "http_status",
    "latency_ms", "ttft_ms", "input_tokens", "output_tokens", "usage_estimated",
    "config_version", "config_hash", "row_hash",
)  # fmt: skip
PAGE = 2000
_STARTED, _SEQ = COLUMNS.index("started_at"), COLUMNS.index("seq")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like target whose write returns the CSV line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_response(request: HttpRequest, records: QuerySet[CallRecord]) -> StreamingHttpResponse:
    writer = csv.writer(_Line())
    if isinstance(request, ASGIRequest):
        content: Any = _async_lines(writer, records)
    else:
        content = _lines(writer, records)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="call-records.csv"'
    return response


def _lines(writer: Any, records: QuerySet[CallRecord]) -> Iterator[str]:
    yield writer.writerow(COLUMNS)
    after = None
    while page := _page(records, after):
        yield "".join(writer.writerow([_cell(v) for v in row]) for row in page)
        after = _position(page[-1])


async def _async_lines(writer: Any, records: QuerySet[CallRecord]) -> AsyncIterator[str]:
    yield writer.writerow(COLUMNS)
    after = None
    while page := await sync_to_async(_page)(records, after):
        yield "".join(writer.writerow([_cell(v) for v in row]) for row in page)
        after = _position(page[-1])


def _page(
    records: QuerySet[CallRecord], after: tuple[datetime, int] | None
) -> list[tuple[Any, ...]]:
    page = records.order_by("-started_at", "-seq")
    if after is not None:
        started, seq = after
        # `started_at <= ...` bounds the index scan; the OR picks up exactly after the row.
        page = page.filter(Q(started_at__lt=started) | Q(seq__lt=seq), started_at__lte=started)
    return list(page.values_list(*COLUMNS)[:PAGE])


def _position(row: tuple[Any, ...]) -> tuple[datetime, int]:
    return row[_STARTED], row[_SEQ]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
