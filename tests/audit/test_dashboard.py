"""The dashboard tells the truth: every slot of its window, routed calls' strategies
only, fine percentiles, and every figure a link to exactly the records behind it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from audit.dashboard import WINDOWS, dashboard_context
from audit.models import HourlyRollup
from audit.rollups import latency_percentile, roll_up_hours
from audit.types import CallOutcome
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 42, tzinfo=UTC)


def _slot_titles(chart: str, series: str) -> list[str]:
    return re.findall(rf"<title>([^<]*): [\d,]+ {series}</title>", chart)


def test_the_day_shows_every_hour_with_an_axis_and_units():
    CallRecordFactory.create_batch(2, started_at=NOW - timedelta(hours=5))
    CallRecordFactory(started_at=NOW)
    roll_up_hours()

    context = dashboard_context(window=WINDOWS["day"], now=NOW)

    hours = _slot_titles(context["calls_chart"], "calls")
    assert len(hours) == 24 and hours[0] == "16:00" and hours[-1] == "15:00"
    assert "<title>10:00: 2 calls</title>" in context["calls_chart"]
    assert "<title>11:00: 0 calls</title>" in context["calls_chart"]  # quiet hours drawn
    assert ">calls</text>" in context["calls_chart"]  # the axis names its unit
    assert len(_slot_titles(context["tokens_chart"], "local")) == 24


def test_the_week_has_all_168_hours_and_the_hour_reads_records_in_five_minutes():
    CallRecordFactory(started_at=NOW - timedelta(minutes=3))
    CallRecordFactory(started_at=NOW - timedelta(minutes=20))  # no roll-up needed

    week = dashboard_context(window=WINDOWS["week"], now=NOW)
    hour = dashboard_context(window=WINDOWS["hour"], now=NOW)

    assert len(_slot_titles(week["calls_chart"], "calls")) == 168
    assert hour["totals"]["calls"] == 2
    assert _slot_titles(hour["calls_chart"], "calls")[-1] == "15:40"
    assert "<title>15:20: 1 calls</title>" in hour["calls_chart"]


FIGURES = ("calls", "errors", "tokens", "estimated_calls", "estimated_tokens", "p50", "p95")


def _summed_here(rollups: list[HourlyRollup]) -> dict[str, object]:
    """The dashboard's figures for these roll-ups, summed plainly in Python."""
    buckets = [sum(column) for column in zip(*(r.latency_buckets for r in rollups), strict=True)]
    return {
        "calls": sum(r.calls for r in rollups), "errors": sum(r.errors for r in rollups),
        "tokens": sum(r.input_tokens + r.output_tokens for r in rollups),
        "estimated_calls": sum(r.estimated_calls for r in rollups),
        "estimated_tokens": sum(r.estimated_tokens for r in rollups),
        "p50": latency_percentile(buckets, 0.5), "p95": latency_percentile(buckets, 0.95),
    }  # fmt: skip


def test_the_week_holds_exactly_the_sums_of_its_hourly_roll_ups():
    # The week is summed in the database; here each figure is summed again from
    # the roll-up rows themselves: totals, every panel row, every hour of the charts.
    routes = (("lmstudio", "qwen"), ("openai", "gpt"), ("ollama", "llama"), ("openai", "o3"))
    for n in range(60):
        provider, model = routes[n % len(routes)]
        failed = n % 7 == 0
        CallRecordFactory(
            started_at=NOW - timedelta(hours=n // 2 * 5 % 163, minutes=n % 40),
            provider=provider, model=model, client_name=f"client-{n % 3}",
            outcome=CallOutcome.UPSTREAM_ERROR if failed else CallOutcome.SUCCESS,
            error_class="TEMPORARY" if failed else "", latency_ms=n * 37 % 1300,
            input_tokens=n, output_tokens=2 * n + 1, usage_estimated=n % 5 == 0,
        )  # fmt: skip
    roll_up_hours()
    rollups = list(HourlyRollup.objects.all())
    for r in rollups:
        r.tokens = r.input_tokens + r.output_tokens
    assert len({r.hour for r in rollups}) > 24 and len(rollups) > len({r.hour for r in rollups})

    context = dashboard_context(window=WINDOWS["week"], now=NOW)

    assert {f: context["totals"][f] for f in FIGURES} == _summed_here(rollups)
    panels = dict(context["panels"])
    for panel, key in (
        ("Provider", lambda r: r.provider),
        ("Model", lambda r: f"{r.provider}/{r.model}"),
        ("Client", lambda r: r.client_name),
    ):
        expected = {key(r): _summed_here([s for s in rollups if key(s) == key(r)]) for r in rollups}
        assert {row["name"]: {f: row[f] for f in FIGURES} for row in panels[panel]} == expected
    last, local = NOW.replace(minute=0), ("lmstudio", "ollama")
    for chart, series, measure in (
        ("calls_chart", "calls", lambda r: r.calls),
        ("calls_chart", "failed", lambda r: r.errors),
        ("tokens_chart", "local", lambda r: (r.provider in local) * r.tokens),
        ("tokens_chart", "cloud", lambda r: (r.provider not in local) * r.tokens),
    ):
        expected = []
        for back in range(167, -1, -1):
            hour = last - timedelta(hours=back)
            value = sum(measure(r) for r in rollups if r.hour == hour)
            expected.append(f"{hour:%a %H:00}: {value:,} {series}")
        assert re.findall(rf"<title>([^<]*: [\d,]+ {series})</title>", context[chart]) == expected


def test_a_roll_up_of_an_older_bucket_layout_gives_no_percentile_rather_than_a_wrong_one():
    CallRecordFactory(started_at=NOW - timedelta(hours=3), provider="openai")
    roll_up_hours()
    hour = NOW.replace(minute=0) - timedelta(hours=30)
    older = (("shorter", [0, 0, 12] + [0] * 9), ("longer", [0, 0, 12] + [0] * 57))
    for provider, buckets in older:
        HourlyRollup.objects.create(
            hour=hour, provider=provider, method="chat", outcome="success", calls=12,
            latency_buckets=buckets,
        )  # fmt: skip

    panels = dict(dashboard_context(window=WINDOWS["week"], now=NOW)["panels"])

    provider = {row["name"]: row for row in panels["Provider"]}
    assert [(provider[p]["calls"], provider[p]["p50"]) for p in ("shorter", "longer")] == [
        (12, None), (12, None),
    ]  # fmt: skip
    assert 120 <= provider["openai"]["p50"] < 150  # its 120 ms call, in the 120–150 bucket


def test_strategies_count_routed_calls_only():
    CallRecordFactory.create_batch(3, started_at=NOW, method="chat", strategy="fallback")
    CallRecordFactory.create_batch(5, started_at=NOW, method="models", strategy="")
    roll_up_hours()

    chart = dashboard_context(window=WINDOWS["day"], now=NOW)["strategies_chart"]

    assert "<title>fallback calls: 3 calls</title>" in chart
    assert "(none)" not in chart and "5 calls" not in chart


def test_percentiles_of_fast_calls_are_not_inflated():
    CallRecordFactory.create_batch(19, started_at=NOW, latency_ms=0)
    CallRecordFactory(started_at=NOW, latency_ms=2)
    roll_up_hours()

    totals = dashboard_context(window=WINDOWS["day"], now=NOW)["totals"]

    assert totals["p50"] < 1 and totals["p95"] <= 1


def test_panels_give_tokens_and_local_share_per_provider_model_and_client():
    CallRecordFactory(started_at=NOW, provider="lmstudio", model="qwen", client_name="a",
                      input_tokens=30, output_tokens=10)  # fmt: skip
    CallRecordFactory(started_at=NOW, provider="openai", model="gpt", client_name="a",
                      input_tokens=40, output_tokens=20)  # fmt: skip
    roll_up_hours()

    panels = dict(dashboard_context(window=WINDOWS["day"], now=NOW)["panels"])

    assert {r["name"]: r["tokens"] for r in panels["Provider"]} == {"lmstudio": 40, "openai": 60}
    assert {r["name"] for r in panels["Model"]} == {"lmstudio/qwen", "openai/gpt"}
    [client] = panels["Client"]
    assert (client["calls"], client["local_share"]) == (2, 40)


def test_every_figure_links_to_exactly_its_records(qa_client):
    CallRecordFactory.create_batch(2, provider="lmstudio", request_id="local-ok")
    CallRecordFactory(provider="openai", outcome=CallOutcome.UPSTREAM_ERROR,
                      error_class="TEMPORARY", request_id="cloud-failed")  # fmt: skip
    roll_up_hours()
    page = qa_client.get("/admin/audit/dashboard/?window=day").content.decode()

    def records_at(pattern: str) -> list[str]:
        href = unescape(re.search(pattern, page).group(1))
        listing = qa_client.get(href)
        assert listing.status_code == 200, href
        cells = re.findall(r'field-short_request_id">([\w-]+)<', listing.content.decode())
        return sorted(cells)

    assert records_at(r'<a href="([^"]+)" class="figure-calls">') == [
        "cloud-failed", "local-ok", "local-ok",
    ]  # fmt: skip
    assert records_at(r'<a href="([^"]+)" class="figure-failed">') == ["cloud-failed"]
    assert records_at(r'<a href="([^"]+)"><text[^>]*>TEMPORARY</text>') == ["cloud-failed"]
    provider_row = r'<td>lmstudio</td><td><a href="([^"]+)">2</a>'
    assert records_at(provider_row) == ["local-ok", "local-ok"]


def test_estimated_usage_is_counted_in_the_totals_and_each_panel(qa_client):
    CallRecordFactory(provider="lmstudio", model="qwen", input_tokens=3, output_tokens=7,
                      usage_estimated=True, request_id="estimated")  # fmt: skip
    CallRecordFactory(provider="lmstudio", model="qwen", input_tokens=30, output_tokens=10,
                      request_id="reported")  # fmt: skip
    CallRecordFactory(provider="openai", model="gpt", input_tokens=5, output_tokens=5,
                      request_id="cloud")  # fmt: skip
    roll_up_hours()

    for window in ("day", "hour"):  # from the roll-ups, and from the records
        context = dashboard_context(window=WINDOWS[window])
        totals, panels = context["totals"], dict(context["panels"])
        assert (totals["tokens"], totals["estimated_tokens"], totals["estimated_calls"]) == (
            60, 10, 1,
        )  # fmt: skip
        provider = {r["name"]: (r["estimated_tokens"], r["estimated_calls"])
                    for r in panels["Provider"]}  # fmt: skip
        assert provider == {"lmstudio": (10, 1), "openai": (0, 0)}

    page = qa_client.get("/admin/audit/dashboard/?window=day").content.decode()
    assert "of which estimated: <strong>10 tokens / 1 calls</strong>" in page
    href = unescape(re.search(r'<a href="([^"]+)" class="figure-estimated">', page).group(1))
    listing = qa_client.get(href).content.decode()
    assert re.findall(r'field-short_request_id">([\w-]+)<', listing) == ["estimated"]
    model_panel = page.split('id="panel-model"')[1].split("</table>")[0]
    assert "10 tokens / 1 calls</a>" in model_panel.split("<td>lmstudio/qwen</td>")[1]
    assert "<td>openai/gpt</td>" in model_panel and model_panel.count("tokens / ") == 1
