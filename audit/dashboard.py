"""What the audit dashboard shows, for a window of the last hour, day or week.

The day and week read the hourly roll-ups (one row per hour and group: a week is
some 34,000 rows however many calls it held), summed again in the database over
the window per group and per hour (`audit.rollups.summed_rollups`); the hour
sums its call records per minute, through the `started_at` index, since its
roll-ups may not exist yet (`audit.rollups.summed_groups`). Both give rows of the
same shape, and every figure is a sum over rows, so each is computed once, in
one way, however the rows split it. Every slot of the window is drawn, quiet
ones too, and every figure links to the call records behind it.

Local providers are those whose kind (from `AUDIT_PROVIDER_KINDS`, provider=kind)
is lmstudio or ollama, or, when unlisted, whose name contains one of those. Usage an
upstream did not report is estimated by the gateway (`CallRecord.usage_estimated`);
the totals and every panel say how many of their calls and tokens were. The
estimated saving prices the local tokens at `AUDIT_SAVING_REFERENCE_MODEL`'s rate
from `AUDIT_MODEL_PRICES` (USD per 1,000 tokens); without a price it says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import Any

from django.conf import settings
from django.db.models.functions import TruncMinute
from django.utils import timezone

from audit import charts
from audit.links import records_url
from audit.models import CallRecord, HourlyRollup
from audit.rollups import GROUP_BY, latency_percentile, summed_groups, summed_rollups

LOCAL_KINDS = ("lmstudio", "ollama")
ROUTED_METHODS = ("chat", "chatStream", "embed")  # the calls a strategy chose a model for


@dataclass(frozen=True)
class Window:
    name: str
    slot: timedelta
    slots: int
    label: str  # strftime of a slot's start on the axis


WINDOWS = {
    "hour": Window("hour", timedelta(minutes=5), 12, "%H:%M"),
    "day": Window("day", timedelta(hours=1), 24, "%H:00"),
    "week": Window("week", timedelta(hours=1), 168, "%a %H:00"),
}


def window_named(name: str | None) -> Window:
    return WINDOWS.get(name or "", WINDOWS["day"])


def dashboard_context(*, window: Window, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    slots = _slot_starts(window, now)
    start, end = slots[0], slots[-1] + window.slot
    rows, slotted = _rows(window, start, end)
    link = _linker(start, end)
    totals = _totals(rows)
    local, cloud = _split(rows, lambda r: r["local"])
    return {
        "window": window.name, "windows": list(WINDOWS), "start": start, "end": end,
        "totals": totals, "records_url": link(),
        "errors_url": link(failed="1"), "estimated_url": link(usage_estimated__exact="1"),
        "calls_chart": _calls_chart(slotted, slots, window, link),
        "tokens_chart": _tokens_chart(slotted, slots, window, link),
        "latency_chart": charts.paired_bars(
            _latency_by(rows, "provider"), title="Latency per provider (p50, p95)", unit="ms"
        ),
        "errors_chart": charts.bar_chart(
            _summed(rows, "error_class", "errors"), title="Failed calls by error class",
            unit="calls", links={k: link(error_class__exact=k) for k in _keys(rows, "error_class")},
        ),
        "strategies_chart": charts.bar_chart(
            _summed([r for r in rows if r["method"] in ROUTED_METHODS], "strategy", "calls"),
            title="Routing strategies (chat, stream and embed calls)", unit="calls",
            links={k: link(strategy__exact=k) for k in _keys(rows, "strategy")},
        ),
        "share_chart": charts.share_bar(local, cloud, title="Tokens served locally vs cloud"),
        "local_tokens": local, "cloud_tokens": cloud,
        "panels": [
            ("Provider", _panel(rows, ("provider",), link)),
            ("Model", _panel(rows, ("provider", "model"), link)),
            ("Client", _panel(rows, ("client_name",), link)),
        ],
        "saving": _estimated_saving(local),
        "reference_model": settings.AUDIT_SAVING_REFERENCE_MODEL,
    }  # fmt: skip


def _slot_starts(window: Window, now: datetime) -> list[datetime]:
    step = int(window.slot.total_seconds())
    epoch = int(now.timestamp()) // step * step
    last = datetime.fromtimestamp(epoch, tz=now.tzinfo)
    return [last - window.slot * i for i in range(window.slots - 1, -1, -1)]


def _rows(window: Window, start: datetime, end: datetime) -> tuple[list[dict], list[dict]]:
    """The window's groups, and its sums per slot and provider (for the charts over
    time), each row marked local or not once. The hour's rows, its groups per
    minute, serve as both."""
    if window.slot >= timedelta(hours=1):
        rollups = HourlyRollup.objects.filter(hour__gte=start, hour__lt=end)
        groups = list(summed_rollups(rollups, GROUP_BY))
        per_hour = summed_rollups(rollups, ("hour", "provider"), buckets=False)
        slotted = [dict(row, slot=row["hour"]) for row in per_hour]
    else:
        records = CallRecord.objects.filter(started_at__gte=start, started_at__lt=end)
        minutes = records.annotate(minute=TruncMinute("started_at"))
        step = int(window.slot.total_seconds())
        groups = slotted = [
            dict(row, slot=_floor(row["minute"], step))
            for row in summed_groups(minutes, ("minute", *GROUP_BY))
        ]
    # Two reads on the roll-ups: one hour recomputed between them shows in one only,
    # until the next load (and a provider may be in one only).
    rows = (*groups, *slotted)
    local = {provider: is_local(provider) for provider in {r["provider"] for r in rows}}
    for row in rows:
        row["local"] = local[row["provider"]]
    return groups, slotted


def _floor(moment: datetime, step: int) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // step * step, tz=moment.tzinfo)


def _linker(start: datetime, end: datetime) -> Callable[..., str]:
    def link(slot_start: datetime | None = None, slot_end: datetime | None = None, **filters):
        return records_url(start=slot_start or start, end=slot_end or end, **filters)

    return link


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    calls = sum(r["calls"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    buckets = _merged(r["latency_buckets"] for r in rows)
    return {
        "calls": calls, "errors": errors,
        "error_rate": round(100 * errors / calls, 1) if calls else None,
        "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in rows),
        "estimated_calls": sum(r["estimated_calls"] for r in rows),
        "estimated_tokens": sum(r["estimated_tokens"] for r in rows),
        "p50": latency_percentile(buckets, 0.5), "p95": latency_percentile(buckets, 0.95),
    }  # fmt: skip


def _merged(lists: Iterable[list[int]]) -> list[int]:
    return [sum(column) for column in zip_longest(*lists, fillvalue=0)]


def _per_slot(rows: list[dict[str, Any]], measure: Callable[[dict], dict[str, int]]) -> dict:
    per: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for name, value in measure(row).items():
            per[row["slot"]][name] += value
    return per


def _calls_chart(rows, slots, window: Window, link) -> str:
    per = _per_slot(rows, lambda r: {"calls": r["calls"], "errors": r["errors"]})
    points = [
        (f"{s:{window.label}}", [per[s]["calls"], per[s]["errors"]], link(s, s + window.slot))
        for s in slots
    ]
    return charts.series_chart(
        points, series=[("calls", charts.CALLS), ("failed", charts.ERRORS)], overlay=True,
        title=f"Calls per {_slot_name(window)}", unit="calls",
    )  # fmt: skip


def _tokens_chart(rows, slots, window: Window, link) -> str:
    def measure(row: dict) -> dict[str, int]:
        where = "local" if row["local"] else "cloud"
        return {where: row["input_tokens"] + row["output_tokens"]}

    per = _per_slot(rows, measure)
    points = [
        (f"{s:{window.label}}", [per[s]["local"], per[s]["cloud"]], link(s, s + window.slot))
        for s in slots
    ]
    return charts.series_chart(
        points, series=[("local", charts.LOCAL), ("cloud", charts.CLOUD)], overlay=False,
        title=f"Tokens per {_slot_name(window)}, local and cloud", unit="tokens",
    )  # fmt: skip


def _slot_name(window: Window) -> str:
    return "5 minutes" if window.slot < timedelta(hours=1) else "hour"


def _latency_by(rows: list[dict[str, Any]], field: str) -> list[tuple[str, float, float]]:
    grouped: dict[str, list[list[int]]] = defaultdict(list)
    for row in rows:
        if row[field]:
            grouped[row[field]].append(row["latency_buckets"])
    found = []
    for key, lists in sorted(grouped.items()):
        buckets = _merged(lists)
        p50 = latency_percentile(buckets, 0.5)
        if p50 is not None:
            found.append((key, p50, latency_percentile(buckets, 0.95)))
    return found


def _panel(rows: list[dict[str, Any]], fields: tuple[str, ...], link) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for row in rows:
        grouped[tuple(row[f] for f in fields)].append(row)
    panel = []
    for key, group in grouped.items():
        filters = {f"{f}__exact": v for f, v in zip(fields, key, strict=True)}
        local, cloud = _split(group, lambda r: r["local"])
        panel.append({
            "name": "/".join(k or "(none)" for k in key), **_totals(group),
            "url": link(**filters), "errors_url": link(**filters, failed="1"),
            "estimated_url": link(**filters, usage_estimated__exact="1"),
            "local_share": round(100 * local / (local + cloud)) if local + cloud else None,
        })  # fmt: skip
    return sorted(panel, key=lambda p: -p["calls"])


def _summed(rows: list[dict[str, Any]], field: str, measure: str) -> list[tuple[str, int]]:
    sums: dict[str, int] = defaultdict(int)
    for row in rows:
        if row[field]:
            sums[row[field]] += row[measure]
    return sorted(((k, v) for k, v in sums.items() if v), key=lambda kv: -kv[1])


def _keys(rows: list[dict[str, Any]], field: str) -> set[str]:
    return {row[field] for row in rows if row[field]}


def _split(rows: Iterable[dict[str, Any]], local: Callable[[dict], bool]) -> tuple[int, int]:
    inside = outside = 0
    for row in rows:
        tokens = row["input_tokens"] + row["output_tokens"]
        if local(row):
            inside += tokens
        else:
            outside += tokens
    return inside, outside


def is_local(provider: str, kinds: dict[str, str] | None = None) -> bool:
    kinds = settings.AUDIT_PROVIDER_KINDS if kinds is None else kinds
    kind = kinds.get(provider)
    if kind is not None:
        return kind.lower() in LOCAL_KINDS
    return any(local in provider.lower() for local in LOCAL_KINDS)


def _estimated_saving(local_tokens: int) -> float | None:
    price = settings.AUDIT_MODEL_PRICES.get(settings.AUDIT_SAVING_REFERENCE_MODEL)
    if price is None:
        return None
    return round(local_tokens / 1000 * price, 2)
