"""GET /health: the gateway's parts and each provider, and /livez without a token."""

from __future__ import annotations

import httpx

from providers.models import HealthStatus, Provider


def test_it_covers_every_part_and_each_provider(api, provider):
    response = api.get("/health")

    assert response.status_code == 200
    body = response.json()
    names = [c["name"] for c in body["components"]]
    assert names == ["transport", "router", "database", "cache", "provider:sandbox"]
    sandbox = body["components"][-1]
    assert (sandbox["status"], sandbox["details"]) == ("degraded", "not probed yet")
    assert body["status"] == "degraded"  # a provider never probed is not known to be ok


def test_it_is_ok_when_every_part_and_provider_is_ok(api, provider):
    coverage = [{"capability": "chat", "status": "ok"}]
    Provider.objects.filter(pk=provider.pk).update(
        health_status=HealthStatus.OK, capability_coverage=coverage, health_detail="4 models"
    )

    body = api.get("/health").json()

    assert body["status"] == "ok"
    assert body["components"][-1]["capabilityCoverage"] == coverage


def test_a_missing_default_route_degrades_the_router(api):
    body = api.get("/health").json()

    router = next(c for c in body["components"] if c["name"] == "router")
    assert router["status"] == "degraded"
    assert "chat" in router["details"]


def test_liveness_needs_no_token(gateway):
    response = httpx.get(f"{gateway}/livez")

    assert (response.status_code, response.json()) == (200, {"status": "alive"})
