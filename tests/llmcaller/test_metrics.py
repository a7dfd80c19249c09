"""/metrics: who may scrape it, and that calls are counted where they end, across
workers too (the gateway as deployed: `llmcaller.serve` with two workers)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from llmcaller.redis_cache import RedisCache
from llmcaller.tokens import issue_token
from tests.factories import ClientFactory
from tests.llmcaller.helpers import CHAT_MODEL, chat_body
from tests.llmcaller.served import served_gateway
from tests.sandbox import closed_port_url

SCRAPER = "scraper-token-for-tests"


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`, parsed as Prometheus does."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and labels.items() <= item.labels.items():
                total += item.value
    return total


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def scraper(settings) -> dict[str, str]:
    settings.LLMCALLER_METRICS_TOKEN = SCRAPER
    return {"Authorization": f"Bearer {SCRAPER}"}


def test_metrics_answer_nobody_until_a_token_or_network_is_set(gateway, token):
    for headers in ({}, {"x-llm-caller-token": token}):
        response = httpx.get(f"{gateway}/metrics", headers=headers, timeout=10)
        assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")


def test_the_scrapers_token_or_network_may_read_them(gateway, scraper, settings):
    wrong = httpx.get(f"{gateway}/metrics", headers={"Authorization": "Bearer no"}, timeout=10)
    assert wrong.status_code == 403

    right = httpx.get(f"{gateway}/metrics", headers=scraper, timeout=10)
    assert right.status_code == 200 and right.headers["content-type"].startswith("text/plain")
    assert "llmcaller_calls_total" in right.text or "# HELP llmcaller_calls" in right.text

    settings.LLMCALLER_METRICS_TOKEN = ""
    settings.LLMCALLER_METRICS_NETWORKS = (ip_network("127.0.0.0/8"),)
    assert httpx.get(f"{gateway}/metrics", timeout=10).status_code == 200


def test_calls_are_counted_by_method_door_outcome_provider_and_model(api, provider, scraper):
    labels = {"method": "chat", "door": "v1", "provider": "sandbox", "model": CHAT_MODEL}
    before = value("llmcaller_calls_total", outcome="success", **labels)
    refused = value("llmcaller_calls_total", method="chat", door="v1", outcome="rejected_auth",
                    provider="", model="")  # fmt: skip
    latency = value("llmcaller_call_duration_seconds_count", method="chat", door="v1")

    assert api.post("/mcp/chat", json=chat_body()).status_code == 200
    assert (
        api.post("/mcp/chat", json=chat_body(), headers={"x-llm-caller-token": "x"}).status_code
        == 401
    )

    scraped = httpx.get(f"{api.base_url}/metrics", headers=scraper, timeout=10).text
    assert sample(scraped, "llmcaller_calls_total", outcome="success", **labels) == before + 1
    # Other doors' chat calls in this process (MCP) are not this test's: name the door.
    refused_now = sample(
        scraped, "llmcaller_calls_total", outcome="rejected_auth", method="chat", door="v1"
    )
    assert refused_now == refused + 1
    count = sample(scraped, "llmcaller_call_duration_seconds_count", method="chat", door="v1")
    assert count == latency + 2


def test_a_stream_observes_its_time_to_first_token(api, provider):
    before = value("llmcaller_time_to_first_token_seconds_count", provider="sandbox",
                   model=CHAT_MODEL)  # fmt: skip

    with api.stream("POST", "/mcp/chatStream", json=chat_body()) as stream:
        stream.read()

    after = value("llmcaller_time_to_first_token_seconds_count", provider="sandbox",
                  model=CHAT_MODEL)  # fmt: skip
    assert after == before + 1


@pytest.mark.usefixtures("clock")  # both calls in one minute's window
def test_a_call_over_the_rate_limit_is_counted_as_a_rejection(gateway, provider):
    token = issue_token(client=ClientFactory(requests_per_minute=1)).raw
    before = value("llmcaller_limit_rejections_total", limit="rate")

    headers = {"x-llm-caller-token": token}
    statuses = [
        httpx.post(f"{gateway}/mcp/chat", json=chat_body(), headers=headers, timeout=10).status_code
        for _ in range(2)
    ]

    assert statuses == [200, 429]
    assert value("llmcaller_limit_rejections_total", limit="rate") == before + 1


def test_a_redis_error_is_counted_by_operation():
    store = RedisCache(f"redis://127.0.0.1:{closed_port_url().rsplit(':', 1)[1]}/0", {})
    before = value("llmcaller_cache_errors_total", operation="get")

    with pytest.raises(ConnectionError):  # CacheUnavailable: the callers degrade on it
        store.get("anything")

    assert value("llmcaller_cache_errors_total", operation="get") == before + 1


# --- two workers ------------------------------------------------------------------

CALLS, REFUSED = 40, 6


@pytest.fixture
def two_workers(tmp_path: Path, upstream) -> Iterator[tuple[str, str, Path]]:
    # serve.py empties the directory it is given; the workers fill it.
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    with served_gateway(tmp_path, upstream.url, "metrics-test", LLMCALLER_METRICS_TOKEN=SCRAPER,
                        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as gateway:  # fmt: skip
        yield gateway.url, gateway.token, metrics_dir


def test_a_scrape_of_either_worker_counts_the_calls_of_both(two_workers, upstream):
    url, token, metrics_dir = two_workers
    upstream.set(latency_ms=20)  # calls overlap, so both workers take some

    def call(index: int) -> int:
        headers = {"x-llm-caller-token": token if index >= REFUSED else "llmc_wrong"}
        # A new connection each time: the kernel hands connections to either worker.
        return httpx.post(f"{url}/mcp/chat", json=chat_body(), headers=headers, timeout=20,
                          ).status_code  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(CALLS + REFUSED)))
    assert statuses.count(200) == CALLS and statuses.count(401) == REFUSED

    workers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
    # Both workers counted calls (the supervising process, which ran the system
    # checks, may have left an empty file of its own).
    assert len(workers) >= 2
    for _ in range(4):  # whichever worker answers the scrape sees every worker's counts
        scraped = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {SCRAPER}"},
                            timeout=10).text  # fmt: skip
        calls = "llmcaller_calls_total"
        # The model label is whichever discovered model routing chose.
        assert sample(scraped, calls, method="chat", door="v1", outcome="success",
                      provider="sandbox") == CALLS  # fmt: skip
        assert sample(scraped, calls, outcome="rejected_auth") == REFUSED
        assert sample(scraped, "llmcaller_upstream_attempts_total", outcome="ok") == CALLS
        assert sample(scraped, "llmcaller_routes_total", capability="chat",
                      strategy="capability-default") == CALLS  # fmt: skip
        # Refusals before authentication are counted per minute, not chained records.
        assert sample(scraped, "llmcaller_audit_batch_records_sum") == CALLS
        assert sample(scraped, "llmcaller_audit_queue_records") == 0
