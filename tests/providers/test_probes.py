"""Health probes against the real sandbox upstream over loopback HTTP."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from providers.management.commands.probe_providers import Command as ProbeCommand
from providers.models import HealthStatus
from providers.probes import capability_coverage, probe_provider
from providers.types import DiscoveredModel
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

ALL_CAPABILITIES = ["chat", "chatStream", "embed"]


def test_a_healthy_provider_is_ok_with_heartbeat_latency_and_coverage(upstream):
    provider = ProviderFactory(base_url=upstream.url, capabilities=ALL_CAPABILITIES)

    report = probe_provider(provider=provider)

    provider.refresh_from_db()
    assert provider.health_status == report.status == HealthStatus.OK
    assert provider.last_heartbeat is not None and provider.probe_latency_ms > 0
    assert provider.capability_coverage == [
        {"capability": c, "status": "ok"} for c in ALL_CAPABILITIES
    ]


@pytest.mark.parametrize(
    ("switch", "status", "detail"),
    [
        ({"error_status": 500}, HealthStatus.DEGRADED, "answered HTTP 500"),
        ({"malformed": True}, HealthStatus.DEGRADED, "malformed response"),
        ({"latency_ms": 1500}, HealthStatus.FAILED, "did not answer within 0.5 s"),
        ({"require_api_key": "right-key"}, HealthStatus.FAILED, "rejected the credential"),
    ],
)
def test_a_misbehaving_provider_gets_a_sanitized_status(upstream, switch, status, detail):
    provider = ProviderFactory(base_url=upstream.url, timeout_seconds=0.5)
    upstream.set(**switch)

    probe_provider(provider=provider)

    provider.refresh_from_db()
    assert provider.health_status == status
    assert detail in provider.health_detail
    assert "{" not in provider.health_detail  # no upstream body leaks into the detail


def test_a_provider_that_is_down_has_failed_and_keeps_its_last_heartbeat(down_url, upstream):
    provider = ProviderFactory(base_url=upstream.url)
    probe_provider(provider=provider)
    provider.refresh_from_db()
    heartbeat = provider.last_heartbeat
    provider.base_url = down_url
    provider.save()

    probe_provider(provider=provider)

    provider.refresh_from_db()
    assert provider.health_status == HealthStatus.FAILED
    assert provider.last_heartbeat == heartbeat
    assert "could not be reached" in provider.health_detail


def test_a_configured_capability_no_model_serves_makes_it_degraded():
    found = [DiscoveredModel(model_id="chat-only", capabilities=("chat", "chatStream"))]

    coverage = capability_coverage(["chat", "embed"], found)

    assert coverage == (
        {"capability": "chat", "status": "ok"},
        {"capability": "embed", "status": "failed"},
    )


def test_a_missing_capability_found_over_http_makes_the_provider_degraded(upstream):
    # An OpenAI-kind provider keeps only gpt-* and text-embedding-* ids from
    # /v1/models, so against the sandbox it finds an embedding model but no chat.
    provider = ProviderFactory(base_url=upstream.url, kind="openai", capabilities=["chat", "embed"])

    probe_provider(provider=provider)

    provider.refresh_from_db()
    assert provider.health_status == HealthStatus.DEGRADED
    assert provider.health_detail == "no model serves chat"
    assert provider.last_heartbeat is not None  # it did answer


def test_the_loop_step_probes_each_due_provider_once_per_interval(upstream, down_url):
    ProviderFactory(key="lms-up", base_url=upstream.url)
    ProviderFactory(key="lms-down", base_url=down_url)
    ProviderFactory(key="lms-off", base_url=upstream.url, enabled=False)
    command = ProbeCommand()

    first = command.step(interval=60)
    second = command.step(interval=60)

    assert sorted((r.provider, r.status) for r in first) == [
        ("lms-down", HealthStatus.FAILED),
        ("lms-up", HealthStatus.OK),
    ]
    assert second == []  # both claimed until their next interval


def test_the_command_prints_one_line_per_provider(upstream, capsys):
    ProviderFactory(key="lms-gpu", base_url=upstream.url)

    call_command("probe_providers")

    assert capsys.readouterr().out.startswith("lms-gpu: ok in ")
