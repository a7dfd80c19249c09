"""The call-record list at millions of rows: what its filters, count and date
drill-down read, so no page view scans the table.

- The choices of the free-text filters (client, provider, model, error class,
  strategy) come from the hourly roll-ups, where Django's
  `AllValuesFieldListFilter` runs a DISTINCT over every record on each view;
  they, and the drill-down's dates, are cached for `CACHE_SECONDS` (the
  roll-ups of 90 days hold hundreds of thousands of rows too).
- The result count is exact up to `COUNT_CAP` rows (a COUNT over a LIMIT); past
  it, on PostgreSQL, it is the planner's estimate, where an exact COUNT(*) would
  read every matching row (seconds at ten million). SQLite counts exactly.
- The date drill-down offers the years, months and days the roll-ups (and the
  records not yet rolled up) hold calls in, where Django's reads DISTINCT dates
  from every matching record; a day offered may hold no record the other
  filters match.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Max, Min, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from audit.models import CallRecord, HourlyRollup, RollupState

COUNT_CAP = 10_000
CACHE_SECONDS = 300  # choices and dates change by the hour; a new value shows within minutes
_CACHE_PREFIX = "audit:listing:"


def rolled_up_filter(field: str, title: str) -> type[admin.SimpleListFilter]:
    """A list filter on `field` whose choices are the values the roll-ups hold;
    its parameter (`field__exact`) is the one Django's own filter would take."""

    class RolledUpValuesFilter(admin.SimpleListFilter):
        parameter_name = f"{field}__exact"

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            values = list(
                cache.get_or_set(f"{_CACHE_PREFIX}values:{field}", _values, CACHE_SECONDS)
            )
            if self.value() and self.value() not in values:
                values.append(self.value())  # a link from elsewhere, not yet rolled up
            return [(value, value) for value in values]

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            value = self.value()
            return queryset.filter(**{field: value}) if value is not None else queryset

    def _values() -> list[str]:
        rows = HourlyRollup.objects.exclude(**{field: ""}).order_by(field)
        return list(rows.values_list(field, flat=True).distinct())

    RolledUpValuesFilter.title = title
    RolledUpValuesFilter.__name__ = f"{field.title().replace('_', '')}Filter"
    return RolledUpValuesFilter


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to COUNT_CAP rows; past that, PostgreSQL's estimate."""

    @cached_property
    def count(self) -> int:
        records = self.object_list
        if connection.vendor != "postgresql" or not isinstance(records, QuerySet):
            return super().count
        capped = records.order_by()[: COUNT_CAP + 1].count()
        if capped <= COUNT_CAP:
            return capped
        return max(_planned_rows(records), capped)


def _planned_rows(records: QuerySet) -> int:
    plan = json.loads(records.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class RolledUpDatesChangeList(ChangeList):
    """A ChangeList whose date drill-down reads dates from the roll-ups: the
    `date_hierarchy` tag is handed `dates_view()` instead of the list itself."""

    def dates_view(self) -> _DatesView:
        return _DatesView(self)


class _DatesView:
    """`cl` as Django's date_hierarchy tag reads it, with `queryset` standing for
    the hours that hold calls rather than the records."""

    def __init__(self, changelist: ChangeList) -> None:
        self._changelist = changelist
        self.queryset = _CallHours(changelist)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._changelist, name)


class _CallHours:
    """Answers the two questions the tag asks (first and last call; distinct
    years, months or days) from the roll-ups and the records not yet rolled up."""

    def __init__(self, changelist: ChangeList) -> None:
        self._year = changelist.params.get(f"{changelist.date_hierarchy}__year")
        self._month = changelist.params.get(f"{changelist.date_hierarchy}__month")

    def aggregate(self, **aggregates: Any) -> dict[str, datetime | None]:
        return cache.get_or_set(f"{_CACHE_PREFIX}span", self._span, CACHE_SECONDS)

    def datetimes(self, field_name: str, kind: str) -> list[datetime]:
        key = f"{_CACHE_PREFIX}dates:{kind}:{self._year}:{self._month}"
        return cache.get_or_set(key, lambda: self._dates(kind), CACHE_SECONDS)

    def _span(self) -> dict[str, datetime | None]:
        rolled = HourlyRollup.objects.aggregate(first=Min("hour"), last=Max("hour"))
        recent = _unrolled().aggregate(first=Min("started_at"), last=Max("started_at"))
        firsts = [v for v in (rolled["first"], recent["first"]) if v is not None]
        lasts = [v for v in (rolled["last"], recent["last"]) if v is not None]
        return {"first": min(firsts, default=None), "last": max(lasts, default=None)}

    def _dates(self, kind: str) -> list[datetime]:
        hours = HourlyRollup.objects.filter(**self._within("hour"))
        recent = _unrolled().filter(**self._within("started_at"))
        found = set(hours.datetimes("hour", kind)) | set(recent.datetimes("started_at", kind))
        return sorted(found)

    def _within(self, field: str) -> dict[str, str]:
        within = {}
        if self._year:
            within[f"{field}__year"] = _first(self._year)
        if self._month:
            within[f"{field}__month"] = _first(self._month)
        return within


def _first(value: str | list[str]) -> str:
    return value[-1] if isinstance(value, list) else value


def _unrolled() -> QuerySet[CallRecord]:
    state = RollupState.objects.filter(pk=1).first()
    since = state.rolled_through if state else datetime.min.replace(tzinfo=UTC)
    return CallRecord.objects.filter(recorded_at__gte=since)
