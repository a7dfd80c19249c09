"""`run_uat --pilot` against the real gateway under uvicorn and the sandbox upstream:
the run is stored as the pilot's evidence, and a rehearsal records its faults."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import CallRecord, UatRun
from llmcaller.models import ClientToken
from llmcaller.tokens import issue_token
from providers.models import Capability
from routing.snapshot import current_snapshot
from tests.audit.factories import PilotFactory
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL
from tests.routing.factories import (
    CapabilityScoreFactory,
    FallbackChainFactory,
    FallbackStepFactory,
    FaultRuleFactory,
)

CHECKS = ["chat", "chatStream", "embed", "models", "health", "wrong token", "unknown field",
          "rate limit"]  # fmt: skip
SMALL_LIMIT = 8  # lets the checks through and makes the rate-limit check bite


def pilot_of_new_client():
    client = ClientFactory(tool_id="notebook", requests_per_minute=SMALL_LIMIT)
    return PilotFactory(client_id=client.pk, client_name=client.tool_id), client


def run_uat(*flags: str) -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("run_uat", *flags, stdout=out)
    except CommandError as exc:
        return out.getvalue() + str(exc), True
    return out.getvalue(), False


def test_a_pilot_run_is_stored_with_every_check_its_timing_and_the_config_hash(gateway, provider):
    pilot, client = pilot_of_new_client()

    output, failed = run_uat("--url", gateway, "--pilot", pilot.name)

    assert not failed, output
    run = UatRun.objects.get(pilot=pilot)
    assert f"Stored as UAT run {run.pk} of pilot {pilot.name}." in output
    assert (run.passed, run.checks_passed, run.checks_failed) == (True, 8, 0)
    assert (run.trigger, run.phase, run.caller_tool) == ("command", "pre-flight", "notebook-cli")
    checks = list(run.checks.order_by("position"))
    assert [c.name for c in checks] == CHECKS
    assert all(c.status == "passed" and c.elapsed_ms > 0 for c in checks)
    (chat_request,) = checks[0].request_ids
    record = CallRecord.objects.get(request_id=chat_request)
    assert record.client_id == client.pk and record.caller_tool == "notebook-cli"
    assert run.config_hash == record.config_hash == current_snapshot().config_hash != ""
    assert run.faults_enabled is False and run.fault_rules == []
    # the run's token was issued for it and is revoked now
    assert [t.revoked_at is not None for t in ClientToken.objects.filter(client=client)] == [True]
    payload = run.canonical_payload()
    assert (payload["kind"], payload["id"], payload["pilot"]) == (
        "uat_run",
        str(run.pk),
        pilot.name,
    )
    assert [c["name"] for c in payload["checks"]] == CHECKS


def test_a_rehearsal_records_each_active_fault_and_how_the_gateway_answered(
    gateway, provider, settings
):
    settings.LLMCALLER_FAULTS_ENABLED = True
    chat_model = provider.models.get(model_id=CHAT_MODEL)
    FaultRuleFactory(name="chat-down", provider=None, model=chat_model, kind="TEMPORARY")
    FaultRuleFactory(name="dormant", provider=provider, kind="AUTH", enabled=False)
    pilot, _ = pilot_of_new_client()
    pilot.status = "rehearsal"
    pilot.save()

    output, failed = run_uat("--url", gateway, "--pilot", pilot.name)

    assert failed and "UAT failed: chat, chatStream." in output
    run = UatRun.objects.get(pilot=pilot)
    assert (run.passed, run.phase, run.faults_enabled) == (False, "rehearsal", True)
    assert run.checks.get(name="embed").status == "passed"  # the fault targets the chat model
    (rule,) = run.fault_rules  # the disabled rule was not active
    assert (rule["name"], rule["kind"], rule["model"]) == ("chat-down", "TEMPORARY", CHAT_MODEL)
    answers = {a["check"]: a for a in rule["answers"]}
    assert set(answers) == {"chat", "chatStream"}
    chat = answers["chat"]
    assert (chat["httpStatus"], chat["error"], chat["outcome"]) == (
        503,
        "TEMPORARY",
        "upstream_error",
    )
    assert answers["chatStream"]["error"] == "TEMPORARY"  # as the stream's error event said
    assert chat["faultedAttempts"][0] == {
        "provider": "sandbox",
        "model": CHAT_MODEL,
        "outcome": "TEMPORARY",
    }
    assert chat["requestId"] in run.checks.get(name="chat").request_ids


def test_a_rehearsal_where_the_gateway_falls_back_records_who_answered_instead(
    gateway, provider, secondary_upstream, settings
):
    settings.LLMCALLER_FAULTS_ENABLED = True
    primary = provider.models.get(model_id=CHAT_MODEL)
    backup = ModelFactory(provider=ProviderFactory(key="backup", base_url=secondary_upstream.url),
                          model_id=CHAT_MODEL)  # fmt: skip
    for capability in (Capability.CHAT, Capability.CHAT_STREAM):
        CapabilityScoreFactory(model=primary, capability=capability, score=80)
        chain = FallbackChainFactory(name=f"safety-{capability}", capability=capability,
                                     is_default=True)  # fmt: skip
        for position, model in enumerate((primary, backup)):
            FallbackStepFactory(chain=chain, position=position, model=model)
    FaultRuleFactory(name="primary-down", provider=None, model=primary, kind="TEMPORARY")
    pilot, _ = pilot_of_new_client()

    output, failed = run_uat("--url", gateway, "--pilot", pilot.name)

    assert not failed, output
    run = UatRun.objects.get(pilot=pilot)
    assert run.passed
    (rule,) = run.fault_rules
    chat = next(a for a in rule["answers"] if a["check"] == "chat")
    assert (chat["httpStatus"], chat["error"], chat["strategy"]) == (200, None, "fallback")
    assert chat["answeredBy"] == f"backup/{CHAT_MODEL}"
    assert {a["provider"] for a in chat["faultedAttempts"]} == {"sandbox"}


def test_a_token_of_another_client_is_refused_and_nothing_is_stored(gateway, provider):
    pilot, _ = pilot_of_new_client()
    other = issue_token(client=ClientFactory(tool_id="someone-else")).raw

    output, failed = run_uat("--url", gateway, "--pilot", pilot.name, "--token", other)

    assert failed and "not one of client notebook's" in output
    assert not UatRun.objects.exists()
    assert other not in output


@pytest.mark.django_db
def test_an_unknown_pilot_is_refused():
    with pytest.raises(CommandError, match="No pilot named 'nope'"):
        call_command("run_uat", "--url", "http://127.0.0.1:1", "--pilot", "nope", stdout=StringIO())
