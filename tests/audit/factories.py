"""Call records as the gateway writes them: through the chain, never around it."""

from __future__ import annotations

import datetime

import factory

from audit import clock
from audit.models import CallRecord, Pilot
from audit.pilot_models import PilotStatus
from audit.types import CallMethod, CallOutcome, CallRecordData
from audit.writer import write_records


class CallRecordDataFactory(factory.Factory):
    class Meta:
        model = CallRecordData

    request_id = factory.Sequence(lambda n: f"req-{n:05d}")
    trace_id = factory.Sequence(lambda n: f"trace-{n:05d}")
    method = CallMethod.CHAT
    outcome = CallOutcome.SUCCESS
    started_at = factory.LazyFunction(lambda: clock.now())
    client_id = 1
    client_name = "notebook"
    caller_tool = "notebook-cli"
    provider = "lmstudio"
    model = "qwen2.5-7b-instruct"
    strategy = "capability-default"
    routing = factory.LazyAttribute(
        lambda o: {
            "capability": "chat",
            "strategy": o.strategy,
            "candidates": [f"{o.provider}/{o.model}"],
        }
    )
    attempts = factory.LazyAttribute(
        lambda o: [{"provider": o.provider, "model": o.model, "outcome": "ok", "latency_ms": 120}]
    )
    http_status = 200
    latency_ms = 120
    input_tokens = 30
    output_tokens = 90
    config_hash = "c0ffee" * 4
    config_version = 1


class CallRecordFactory(CallRecordDataFactory):
    """`build()` gives a CallRecordData; `create()` stores it through the chain,
    exactly as production writes it, and returns the CallRecord row."""

    @classmethod
    def _create(
        cls, model_class: type[CallRecordData], *args: object, **kwargs: object
    ) -> CallRecord:
        (seq,) = write_records([model_class(**kwargs)])
        return CallRecord.objects.get(seq=seq)


class PilotFactory(factory.django.DjangoModelFactory):
    """A pilot of client id 1 ("notebook", as CallRecordFactory's calls are)."""

    class Meta:
        model = Pilot

    name = factory.Sequence(lambda n: f"pilot-{n}")
    caller_tool = "notebook-cli"
    client_id = 1
    client_name = "notebook"
    owner = "dana"
    kickoff = datetime.date(2026, 11, 2)
    status = PilotStatus.PRE_FLIGHT
