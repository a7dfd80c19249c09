"""UAT runs kept as a pilot's evidence (`run_uat --pilot`, the pilot page's "Run UAT").

`run_pilot_uat` runs `llmcaller.uat`'s checks against a gateway with a token of
the pilot's client and stores the run through `audit.pilots.record_uat_run`:
each check with its outcome, timing and request ids; the configuration the
answers named (hash now, version where the gateway gives one, else the call
records'); and, when fault injection is on, every fault rule that was active,
with how the gateway answered each UAT call whose attempts met it, read from
those calls' own call records. `pilot_token` issues a short-lived token for a
run and revokes it afterwards, so no raw token outlives the run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from audit.models import CallRecord, Pilot, UatRun
from audit.pilots import CheckData, UatRunData, record_uat_run
from audit.selectors import calls_for_requests
from llmcaller.models import Client
from llmcaller.tokens import issue_token, revoke_tokens
from llmcaller.uat import TOKEN_HEADER, Result, Target, run_checks
from routing.faults import active_faults
from routing.snapshot import current_snapshot
from routing.types import FaultSpec

TOKEN_LIFETIME_DAYS = 1 / 24
# The checks whose calls are routed to a provider: the only ones a fault rule can
# meet (the others are refused, or answered, before routing).
ROUTED_CHECKS = ("chat", "chatStream", "embed")
# A stream's record is committed as its last event goes out, so it can trail the
# client's read of [DONE] by a moment: look again briefly before giving up.
RECORD_LOOKUPS, RECORD_PAUSE_S = 20, 0.05


class PilotClientMissing(Exception):
    """The pilot's client no longer exists."""


@contextmanager
def pilot_token(pilot: Pilot) -> Iterator[str]:
    client = Client.objects.filter(pk=pilot.client_id).first()
    if client is None:
        raise PilotClientMissing(f"Client {pilot.client_name} (id {pilot.client_id}) is gone.")
    issued = issue_token(client=client, expires_in_days=TOKEN_LIFETIME_DAYS)
    try:
        yield issued.raw
    finally:
        revoke_tokens(tokens=[issued.token])


def run_pilot_uat(
    pilot: Pilot, *, url: str, token: str, trigger: str, actor: str,
    timeout: float = 30.0, rate_limit_burst: int = 200,
) -> tuple[UatRun, list[Result]]:  # fmt: skip
    faults = active_faults(current_snapshot().faults, time.time())
    started = timezone.now()
    with httpx.Client(
        base_url=url.rstrip("/"), headers={TOKEN_HEADER: token}, timeout=timeout, trust_env=False
    ) as http:
        target = Target(http, pilot.caller_tool, rate_limit_burst)
        results = run_checks(target)
    finished = timezone.now()
    routed = [r for r in results if r.name in ROUTED_CHECKS]
    records = _records([rid for result in routed for rid in result.request_ids])
    run = record_uat_run(
        UatRunData(
            pilot=pilot, trigger=trigger, actor=actor, gateway_url=url,
            client_name=pilot.client_name, caller_tool=pilot.caller_tool,
            started_at=started, finished_at=finished,
            checks=tuple(CheckData(r.name, r.status, r.detail, r.elapsed_ms, r.request_ids)
                         for r in results),
            config_hash=str(target.configuration.get("configHash", "")),
            config_version=_version(target.configuration, records),
            faults_enabled=settings.LLMCALLER_FAULTS_ENABLED,
            fault_rules=[_fault_entry(rule, results, records) for rule in faults],
        )
    )  # fmt: skip
    return run, results


def _records(request_ids: list[str]) -> dict[str, CallRecord]:
    found: dict[str, CallRecord] = {}
    for _ in range(RECORD_LOOKUPS):
        found = calls_for_requests(request_ids)
        if len(found) == len(set(request_ids)):
            break
        time.sleep(RECORD_PAUSE_S)
    return found


def _version(configuration: dict[str, Any], records: dict[str, CallRecord]) -> int | None:
    version = configuration.get("configVersion")
    if isinstance(version, int):
        return version
    versions = [r.config_version for r in records.values() if r.config_version is not None]
    return max(versions) if versions else None


def _fault_entry(
    rule: FaultSpec, results: list[Result], records: dict[str, CallRecord]
) -> dict[str, Any]:
    answers = [
        _answer(result.name, records[rid], rule.name)
        for result in results
        for rid in result.request_ids
        if rid in records and any(a.get("fault") == rule.name for a in records[rid].attempts)
    ]
    return {
        "name": rule.name, "kind": rule.kind, "provider": rule.provider,
        "model": rule.model_id, "probability": rule.probability, "answers": answers,
    }  # fmt: skip


def _answer(check: str, record: CallRecord, fault: str) -> dict[str, Any]:
    met = [a for a in record.attempts if a.get("fault") == fault]
    return {
        "check": check, "requestId": record.request_id, "httpStatus": record.http_status,
        "error": record.error_class or None, "outcome": record.outcome,
        "strategy": record.strategy, "answeredBy": f"{record.provider}/{record.model}",
        "faultedAttempts": [
            {"provider": a.get("provider"), "model": a.get("model"), "outcome": a.get("outcome")}
            for a in met
        ],
    }  # fmt: skip
