"""Each role signed in to the admin, page by page and action by action: what it
sees, what it may change, which actions it is offered, and that an action posted
by hand without its permission is refused with nothing written or spent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client as BrowserClient
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from audit.roles import (
    ASSESSORS_GROUP,
    OPERATIONS_GROUP,
    OPERATORS_GROUP,
    PRODUCT_GROUP,
    QA_GROUP,
    REVIEW_VERSION,
    SIGN_OFF,
    SIGN_OFF_RELEASE,
)
from llmcaller.models import ClientToken
from llmcaller.oauth import create_application
from llmcaller.tokens import issue_token
from providers.models import Capability, HealthStatus, Model
from routing.models import (
    CapabilityScore,
    ConfigVersion,
    FallbackChain,
    FaultKind,
    FaultRule,
    Task,
    TaskPreference,
    VersionStatus,
)
from routing.versions import routing_version
from tests.audit.factories import CallRecordFactory
from tests.factories import ClientFactory, ModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db

ROLES = [OPERATORS_GROUP, OPERATIONS_GROUP, QA_GROUP, ASSESSORS_GROUP, PRODUCT_GROUP]
REVIEWERS = [QA_GROUP, ASSESSORS_GROUP]
EDITABLE = {  # the configuration operators change, as admin pages
    "providers.provider", "providers.model", "routing.capabilityscore",
    "routing.taskpreference", "routing.fallbackchain", "routing.faultrule", "llmcaller.client",
}  # fmt: skip
ACTIONS = {  # the actions each role is offered, per page
    OPERATORS_GROUP: {
        "providers.provider": {"discover_models_action", "probe_now_action", "delete_selected"},
        "providers.model": {"send_test_prompt_action", "probe_kind_action", "delete_selected"},
        "llmcaller.client": {"issue_tokens", "create_applications", "delete_selected"},
        "llmcaller.clienttoken": {"revoke"},
        "oauth2_provider.accesstoken": {"revoke_tokens"},
        "oauth2_provider.refreshtoken": {"revoke_tokens"},
        **{label: {"delete_selected"} for label in EDITABLE if label.startswith("routing.")},
    },
    OPERATIONS_GROUP: {"providers.provider": {"probe_now_action"}},
}
GRANTS = {
    OPERATORS_GROUP: set(),
    OPERATIONS_GROUP: {SIGN_OFF, REVIEW_VERSION},
    QA_GROUP: {SIGN_OFF, REVIEW_VERSION},
    ASSESSORS_GROUP: {SIGN_OFF, REVIEW_VERSION},
    PRODUCT_GROUP: {SIGN_OFF_RELEASE},
}


def _signed_in(role: str) -> BrowserClient:
    user = get_user_model().objects.create_user(role.lower(), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def _label(model: type) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _url(model: type, view: str) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")


def _offered(page: str) -> set[str]:
    select = re.search(r'<select name="action".*?</select>', page, re.S)
    return set(re.findall(r'<option value="(\w+)"', select[0])) if select else set()


@pytest.fixture
def seeded(upstream):
    """One row on every page (Django offers no actions over an empty list)."""
    provider = ProviderFactory(base_url=upstream.url)
    model = ModelFactory(provider=provider)
    issue_token(client=ClientFactory())
    CapabilityScore.objects.create(model=model, capability=Capability.CHAT, score=50)
    TaskPreference.objects.create(task=Task.CODING, model=model)
    FallbackChain.objects.create(name="chat-chain", capability=Capability.CHAT)
    FaultRule.objects.create(name="slow", provider=provider, kind=FaultKind.LATENCY)
    CallRecordFactory()
    _oauth_tokens(create_application(client=ClientFactory(tool_id="oauth-tool")))
    return provider


def _oauth_tokens(issued) -> AccessToken:
    application = issued.link.application
    expires = timezone.now() + timedelta(minutes=15)
    access = AccessToken.objects.create(
        application=application, token="llmco_x", expires=expires, scope="chat"
    )
    # The client-credentials grant issues none; a row lets the page offer its action.
    owner = get_user_model().objects.create_user("resource-owner")
    RefreshToken.objects.create(application=application, token="r", access_token=access, user=owner)
    return access


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_page_and_changes_only_what_it_owns(role, seeded):
    browser = _signed_in(role)
    seen, expected = {}, {}
    for model in admin.site._registry:
        label = _label(model)
        listing = browser.get(_url(model, "changelist"))
        adding = browser.get(_url(model, "add")).status_code
        offered = _offered(listing.content.decode()) if listing.status_code == 200 else set()
        seen[label] = (listing.status_code, adding, offered)
        reads = model._meta.app_label != "auth"  # users and groups: superusers only
        adds = (role == OPERATORS_GROUP and label in EDITABLE | {"audit.pilot"}) or (
            role in REVIEWERS and label == "audit.finding"  # the backlog a pilot produces
        )
        actions = ACTIONS.get(role, {}).get(label, set())
        if label == "audit.callrecord":
            actions = actions | {"export_csv"}  # every reader exports what it reads
        expected[label] = (200 if reads else 403, 200 if adds else 403, actions)
    assert seen == expected


@pytest.mark.parametrize("role", ROLES)
def test_each_role_holds_its_own_custom_permissions_and_no_others(role):
    group = Group.objects.get(name=role)
    custom = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
        if not p.codename.startswith(("view_", "add_", "change_", "delete_"))
    }
    operators_only = {
        "providers.discover_models", "providers.send_test_prompt", "llmcaller.issue_token",
        "audit.run_uat",
    }  # fmt: skip
    probe = {"providers.probe_provider"} if role in (OPERATORS_GROUP, OPERATIONS_GROUP) else set()
    assert custom == GRANTS[role] | probe | (operators_only if role == OPERATORS_GROUP else set())


@pytest.mark.parametrize("role", [*REVIEWERS, PRODUCT_GROUP, OPERATIONS_GROUP])
def test_only_operators_change_a_provider(role, seeded):
    browser = _signed_in(role)
    url = reverse("admin:providers_provider_change", args=[seeded.pk])

    assert browser.get(url).status_code == 200
    assert browser.post(url, {"name": "renamed"}).status_code == 403
    assert browser.post(reverse("admin:providers_provider_delete", args=[seeded.pk]),
                        {"post": "yes"}).status_code == 403  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_nobody_but_a_superuser_administers_users(role, admin_client):
    browser = _signed_in(role)

    assert browser.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert browser.get(reverse("admin:auth_group_add")).status_code == 403
    assert admin_client.get(reverse("admin:auth_user_changelist")).status_code == 200


def _post_action(browser: BrowserClient, model: type, action: str, pk: int) -> int:
    data = {"action": action, "_selected_action": [pk], "index": "0"}
    return browser.post(_url(model, "changelist"), data).status_code


@pytest.mark.parametrize("role", REVIEWERS)
def test_a_reviewer_posting_a_test_prompt_gets_403_and_spends_nothing(role, seeded, upstream):
    model = Model.objects.get()

    assert _post_action(_signed_in(role), Model, "send_test_prompt_action", model.pk) == 403

    assert upstream.requests() == {}


@pytest.mark.parametrize("role", REVIEWERS)
def test_a_reviewer_posting_probe_or_discovery_gets_403_and_nothing_is_written(
    role, seeded, upstream
):
    browser = _signed_in(role)
    provider = type(seeded)

    assert _post_action(browser, provider, "probe_now_action", seeded.pk) == 403
    assert _post_action(browser, provider, "discover_models_action", seeded.pk) == 403

    assert upstream.requests() == {}
    seeded.refresh_from_db()
    assert (seeded.health_status, seeded.last_heartbeat) == (HealthStatus.UNKNOWN, None)
    assert Model.objects.count() == 1


@pytest.mark.parametrize("role", REVIEWERS)
def test_a_reviewer_posting_issue_a_token_gets_403_and_no_token_exists(role, seeded):
    client = ClientFactory()

    assert _post_action(_signed_in(role), type(client), "issue_tokens", client.pk) == 403

    assert not ClientToken.objects.filter(client=client).exists()


def test_an_operator_runs_the_same_actions(seeded, upstream):
    # The other side of the refusals above: the same posts do run for an operator.
    browser = _signed_in(OPERATORS_GROUP)
    client = ClientFactory()

    assert _post_action(browser, Model, "send_test_prompt_action", Model.objects.get().pk) == 302
    assert _post_action(browser, type(seeded), "probe_now_action", seeded.pk) == 302
    assert _post_action(browser, type(client), "issue_tokens", client.pk) == 302

    assert upstream.requests()
    assert ClientToken.objects.filter(client=client).count() == 1
    seeded.refresh_from_db()
    assert seeded.last_heartbeat is not None


def test_operations_may_probe_but_not_spend(seeded, upstream):
    browser = _signed_in(OPERATIONS_GROUP)

    assert _post_action(browser, Model, "send_test_prompt_action", Model.objects.get().pk) == 403
    assert upstream.requests() == {}
    assert _post_action(browser, type(seeded), "probe_now_action", seeded.pk) == 302
    assert upstream.requests()


@pytest.mark.parametrize("role", [*REVIEWERS, OPERATIONS_GROUP, PRODUCT_GROUP])
def test_only_operators_revoke_oauth_tokens(role, seeded):
    access = AccessToken.objects.get()
    refresh = RefreshToken.objects.get()

    browser = _signed_in(role)
    assert _post_action(browser, AccessToken, "revoke_tokens", access.pk) == 403
    assert _post_action(browser, RefreshToken, "revoke_tokens", refresh.pk) == 403
    assert AccessToken.objects.filter(pk=access.pk).exists()

    operator = _signed_in(OPERATORS_GROUP)
    assert _post_action(operator, AccessToken, "revoke_tokens", access.pk) == 302
    assert not AccessToken.objects.filter(pk=access.pk).exists()


def test_an_operator_publishes_and_reactivates_but_cannot_review(seeded, settings):
    settings.LLMCALLER_CONFIG_REVIEW = "required"
    routing_version()  # the first version, published as the gateway starts
    operator, qa = _signed_in(OPERATORS_GROUP), _signed_in(QA_GROUP)

    def publish_and_approve(name: str) -> ConfigVersion:
        FallbackChain.objects.update(name=name)  # an edit of the working copy
        publish = reverse("admin:routing_configversion_publish")
        assert operator.post(publish, {"summary": name}).status_code == 302
        pending = ConfigVersion.objects.get(status=VersionStatus.PENDING)
        review = reverse("admin:routing_configversion_review", args=[pending.pk])
        operator.post(review, {"decision": "approve"})
        assert ConfigVersion.objects.get(pk=pending.pk).status == VersionStatus.PENDING
        qa.post(review, {"decision": "approve"})  # a second person, in a reviewing role
        assert ConfigVersion.objects.get(is_active=True) == pending
        return pending

    earlier = publish_and_approve("first-chain")
    publish_and_approve("second-chain")
    reactivate = reverse("admin:routing_configversion_reactivate", args=[earlier.pk])

    assert qa.post(reactivate).status_code == 403
    assert operator.post(reactivate).status_code == 302
    assert ConfigVersion.objects.get(is_active=True) == earlier
