"""Configuration history: every configuration write is recorded with its source,
secrets masked and nothing else."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import ConfigChange
from llmcaller.tokens import issue_token, revoke_tokens
from providers.discovery import apply_discovery
from providers.types import DiscoveredModel
from routing.config_export import export_config
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.providers.test_admin import VALID
from tests.routing.factories import FallbackChainFactory, FallbackStepFactory
from tests.routing.test_admin import _chain_form

pytestmark = pytest.mark.django_db


def test_adding_changing_and_deleting_a_provider_is_recorded(admin_client, admin_user):
    admin_client.post(reverse("admin:providers_provider_add"), VALID)
    provider_id = ConfigChange.objects.get().after["id"]
    change_url = reverse("admin:providers_provider_change", args=[provider_id])
    admin_client.post(change_url, {**VALID, "timeout_seconds": "12"})
    delete_url = reverse("admin:providers_provider_delete", args=[provider_id])
    admin_client.post(delete_url, {"post": "yes"})

    added, changed, deleted = ConfigChange.objects.order_by("created_at")
    assert (added.action, changed.action, deleted.action) == ("add", "change", "delete")
    assert {c.actor_name for c in (added, changed, deleted)} == {admin_user.username}
    assert added.object_repr == "provider: lms-gpu"
    assert (changed.before["timeout_seconds"], changed.after["timeout_seconds"]) == (30.0, 12.0)
    assert changed.after["credential_env"] == ""  # where a secret lives is not masked
    assert deleted.after is None and deleted.before["key"] == "lms-gpu"


def test_an_inline_fallback_step_edit_is_recorded_with_before_and_after(admin_client, admin_user):
    chain = FallbackChainFactory(name="chat-local")
    step = FallbackStepFactory(chain=chain, position=0)
    other = ModelFactory(provider=step.model.provider, model_id="other")
    form = _chain_form(chain, {step.pk: 0}) | {"steps-0-model": str(other.pk)}

    response = admin_client.post(
        reverse("admin:routing_fallbackchain_change", args=[chain.pk]), form
    )

    assert response.status_code == 302
    change = ConfigChange.objects.get(object_repr__startswith="fallback step")
    assert (change.action, change.source, change.actor_name) == (
        "change",
        "admin",
        admin_user.username,
    )
    assert (change.before["model"], change.after["model"]) == (step.model_id, other.pk)


def test_issuing_and_revoking_a_token_is_recorded_without_its_hash():
    client = ClientFactory(tool_id="billing")
    issued = issue_token(client=client, actor="olivia", source="admin")
    revoke_tokens(tokens=[issued.token], actor="olivia", source="admin")

    issue, revoke = ConfigChange.objects.order_by("created_at", "id")
    assert (issue.action, revoke.action) == ("issue token", "revoke token")
    assert issue.after["prefix"] == issued.token.prefix and issue.source == "admin"
    assert revoke.before["revoked_at"] is None and revoke.after["revoked_at"]
    assert issued.token.token_hash not in str(issue.after) + str(revoke.after)
    assert issued.raw not in str(issue.after) + str(revoke.after)


def test_discovery_adding_and_retiring_a_model_is_recorded():
    provider = ProviderFactory(key="local")
    apply_discovery(provider=provider, found=[DiscoveredModel("old"), DiscoveredModel("kept")])
    apply_discovery(provider=provider, found=[DiscoveredModel("kept")])

    changes = ConfigChange.objects.filter(source="discovery").order_by("created_at", "id")
    assert [(c.action, c.object_repr) for c in changes] == [
        ("discover", "model: local/old"), ("discover", "model: local/kept"),
        ("retire", "model: local/old"),
    ]  # fmt: skip
    assert (changes[2].before["seen"], changes[2].after["seen"]) == (True, False)


def test_an_import_records_each_row_it_writes(tmp_path):
    ProviderFactory(key="local", timeout_seconds=30)
    data = export_config()
    data["providers"][0]["timeout_seconds"] = 9.0
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))

    call_command("import_config", str(path), stdout=StringIO())

    change = ConfigChange.objects.get(action="import")
    assert (change.source, change.object_repr) == ("import", "provider: local")
    assert (change.before["timeout_seconds"], change.after["timeout_seconds"]) == (30.0, 9.0)


def test_token_budgets_are_not_masked_as_secrets(admin_client):
    client = ClientFactory(tool_id="billing", daily_token_budget=1000)
    form = {"tool_id": "billing", "name": client.name, "allowed_methods": ["chat"],
            "active": "on", "daily_token_budget": "5000", "monthly_token_budget": "90000",
            "response_cache_seconds": "0", "tokens-TOTAL_FORMS": "0",
            "tokens-INITIAL_FORMS": "0", "tokens-MIN_NUM_FORMS": "0",
            "tokens-MAX_NUM_FORMS": "1000", "applications-TOTAL_FORMS": "0",
            "applications-INITIAL_FORMS": "0", "applications-MIN_NUM_FORMS": "0",
            "applications-MAX_NUM_FORMS": "1000"}  # fmt: skip

    response = admin_client.post(reverse("admin:llmcaller_client_change", args=[client.pk]), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    change = ConfigChange.objects.get(object_repr__startswith="client")
    assert (change.before["daily_token_budget"], change.after["daily_token_budget"]) == (1000, 5000)
    assert change.after["monthly_token_budget"] == 90000


def test_a_token_expiry_changed_inline_on_its_client_is_recorded(admin_client):
    client = ClientFactory(tool_id="billing")
    token = issue_token(client=client).token
    form = {"tool_id": "billing", "name": client.name, "allowed_methods": ["chat"],
            "active": "on", "response_cache_seconds": "0", "tokens-TOTAL_FORMS": "1",
            "tokens-INITIAL_FORMS": "1", "tokens-MIN_NUM_FORMS": "0",
            "tokens-MAX_NUM_FORMS": "1000", "tokens-0-id": str(token.pk),
            "tokens-0-client": str(client.pk), "tokens-0-expires_at_0": "2027-01-31",
            "tokens-0-expires_at_1": "12:00:00", "applications-TOTAL_FORMS": "0",
            "applications-INITIAL_FORMS": "0", "applications-MIN_NUM_FORMS": "0",
            "applications-MAX_NUM_FORMS": "1000"}  # fmt: skip

    response = admin_client.post(reverse("admin:llmcaller_client_change", args=[client.pk]), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    change = ConfigChange.objects.get(object_repr__startswith="client token", action="change")
    assert change.before["expires_at"] is None
    assert change.after["expires_at"].startswith("2027-01-31")
    assert token.token_hash not in str(change.before) + str(change.after)


def test_a_provider_added_by_command_is_recorded_as_the_commands_write():
    call_command(
        "add_provider", "scripted", "--kind", "lmstudio", "--base-url", "http://127.0.0.1:9",
        "--no-discover", stdout=StringIO(),
    )  # fmt: skip

    change = ConfigChange.objects.get(action="add")
    assert (change.source, change.actor_name) == ("command", "add_provider command")
    assert change.object_repr.startswith("provider: ") and change.before is None
    assert change.after["base_url"] == "http://127.0.0.1:9"


def test_a_client_created_or_changed_by_issue_token_is_recorded(capsys):
    call_command("issue_token", "batch-tool", "--create", "--methods", "chat")
    call_command("issue_token", "batch-tool", "--methods", "chat,embed")
    call_command("issue_token", "batch-tool")  # a token only: the client is unchanged

    client_changes = ConfigChange.objects.exclude(action="issue token").order_by("id")
    assert [(c.action, c.source) for c in client_changes] == [
        ("add", "command"), ("change", "command"),
    ]  # fmt: skip
    added, changed = client_changes
    assert added.after["allowed_methods"] == ["chat"]
    assert (changed.before["allowed_methods"], changed.after["allowed_methods"]) == (
        ["chat"], ["chat", "embed"],
    )  # fmt: skip
    assert ConfigChange.objects.filter(action="issue token").count() == 3
