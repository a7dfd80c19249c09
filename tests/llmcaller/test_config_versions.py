"""Configuration versions over real HTTP: calls route by the active version only.

With review required, an operator edits a fallback chain and publishes in the
admin; calls to the gateway keep routing by the old version until a second
person approves, then follow the new one; re-activating the old version brings
its route back. Every call record names the version that routed it.
"""

from __future__ import annotations

import time
from io import StringIO

import httpx
import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client as BrowserClient
from django.urls import reverse

from audit.models import CallRecord, SignOff
from audit.roles import QA_GROUP, ensure_roles
from routing.models import ConfigVersion, FallbackChain, VersionStatus
from tests.factories import ModelFactory, ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL, chat_body
from tests.routing.factories import CapabilityScoreFactory, FallbackStepFactory
from tests.routing.test_admin import _chain_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def routes(upstream, secondary_upstream, down_url, settings) -> FallbackChain:
    """A default model that is down, then the default chain's one step: alpha."""
    settings.LLMCALLER_CONFIG_REVIEW = "required"
    settings.ROUTING_BREAKER_FAILURES = 10**9  # the down default is tried, and fails, every time
    down = ProviderFactory(key="down", base_url=down_url, retry_attempts=0)
    CapabilityScoreFactory(model=ModelFactory(provider=down, model_id=CHAT_MODEL), is_default=True)
    alpha = ProviderFactory(key="alpha", base_url=upstream.url, retry_attempts=0)
    beta = ProviderFactory(key="beta", base_url=secondary_upstream.url, retry_attempts=0)
    ModelFactory(provider=beta, model_id=CHAT_MODEL)
    alpha_model = ModelFactory(provider=alpha, model_id=CHAT_MODEL)
    step = FallbackStepFactory(chain__name="chat-safety", chain__is_default=True, model=alpha_model)
    return step.chain


def _signed_in(username: str, *, qa: bool = False) -> BrowserClient:
    user = User.objects.create_user(username, password="pw", is_staff=True, is_superuser=not qa)
    if qa:
        user.groups.add(
            ensure_roles(apps)[QA_GROUP]
        )  # a transactional test flushed the migration's
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def _answered_by(api: httpx.Client) -> tuple[str, int | None]:
    body = api.post("/mcp/chat", json=chat_body()).json()
    routing = body["providerInfo"]["routing"]
    assert routing["strategy"] == "fallback"  # the chain answered, after the down default
    return body["providerInfo"]["name"], routing["configVersion"]


def _until_answered_by(api: httpx.Client, provider: str) -> tuple[str, int | None]:
    # Workers look for a new version once a second; give them a few.
    deadline = time.monotonic() + 5
    answer = _answered_by(api)
    while answer[0] != provider and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = _answered_by(api)
    return answer


def _edit_chain_to(operator: BrowserClient, chain: FallbackChain, provider: str) -> None:
    step = chain.steps.get()
    model = ModelFactory._meta.model.objects.get(provider__key=provider)
    form = _chain_form(chain, {step.pk: 0}) | {"is_default": "on", "steps-0-model": model.pk}
    url = reverse("admin:routing_fallbackchain_change", args=[chain.pk])
    assert operator.post(url, form).status_code == 302


def _publish_and_approve(
    operator: BrowserClient, qa: BrowserClient, chain: FallbackChain, provider: str
) -> ConfigVersion:
    _edit_chain_to(operator, chain, provider)
    operator.post(reverse("admin:routing_configversion_publish"), {"summary": provider})
    pending = ConfigVersion.objects.get(status=VersionStatus.PENDING)
    qa.post(
        reverse("admin:routing_configversion_review", args=[pending.pk]), {"decision": "approve"}
    )
    pending.refresh_from_db()
    assert pending.status == VersionStatus.APPROVED
    return pending


def test_an_edit_routes_calls_only_after_a_second_person_approves_it(routes, api):
    operator, qa = _signed_in("olivia"), _signed_in("quinn", qa=True)
    assert _answered_by(api) == ("alpha", 1)

    _edit_chain_to(operator, routes, "beta")
    operator.post(reverse("admin:routing_configversion_publish"), {"summary": "beta first"})
    pending = ConfigVersion.objects.get(status=VersionStatus.PENDING)
    assert pending.author == "olivia"
    time.sleep(1.2)  # past the workers' check interval: the pending version must not count
    assert _answered_by(api) == ("alpha", 1)

    review = reverse("admin:routing_configversion_review", args=[pending.pk])
    refused = operator.post(review, {"decision": "approve"}, follow=True)
    assert "someone other than its author must review it" in refused.content.decode()
    assert _answered_by(api) == ("alpha", 1)

    qa.post(review, {"decision": "approve", "notes": "Diff checked."})
    assert _until_answered_by(api, "beta") == ("beta", pending.number)

    sign_off = SignOff.objects.get()
    assert (sign_off.reviewer_name, sign_off.reviewer_role, sign_off.decision) == (
        "quinn", QA_GROUP, "approve",
    )  # fmt: skip
    versions = set(CallRecord.objects.values_list("config_version", "config_hash"))
    assert versions == {
        (1, ConfigVersion.objects.get(number=1).sha256), (pending.number, pending.sha256),
    }  # fmt: skip


def test_reactivating_an_earlier_version_routes_by_it_at_once_and_records_name_it(routes, api):
    operator, qa = _signed_in("olivia"), _signed_in("quinn", qa=True)
    assert _answered_by(api) == ("alpha", 1)
    beta = _publish_and_approve(operator, qa, routes, "beta")
    assert _until_answered_by(api, "beta") == ("beta", beta.number)
    alpha = _publish_and_approve(operator, qa, routes, "alpha")
    assert _until_answered_by(api, "alpha") == ("alpha", alpha.number)

    operator.post(reverse("admin:routing_configversion_reactivate", args=[beta.pk]))

    assert _until_answered_by(api, "beta") == ("beta", beta.number)
    last = CallRecord.objects.order_by("-seq").first()
    assert (last.config_version, last.config_hash) == (beta.number, beta.sha256)
    assert not CallRecord.objects.filter(config_version__isnull=True).exists()
    out = StringIO()
    call_command("verify_audit", stdout=out)  # exits non-zero on a broken chain
    assert "intact" in out.getvalue().lower()
