"""The dashboard tells the truth: every slot of its window, routed calls' strategies
only, fine percentiles, and every figure a link to exactly the records behind it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.dashboard import WINDOWS, dashboard_context
from audit.roles import QA_GROUP
from audit.rollups import roll_up_hours
from audit.types import CallOutcome
from tests.audit.factories import CallRecordFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 42, tzinfo=UTC)


@pytest.fixture
def qa_client(client):
    user = get_user_model().objects.create_user("qa", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=QA_GROUP))
    client.force_login(user)
    return client


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
