"""What other apps, the admin and the commands ask of providers.

Discovery and probes live in their own modules (`discovery`, `probes`); this
module is their public surface, plus the operator's test prompt, which leaves a
call record of its own (door `admin`, the operator as its client) like any call.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.utils import timezone

from audit.services import record_call_sync
from audit.types import CallDoor, CallMethod, CallOutcome, CallRecordData
from providers.adapters.naming import capabilities_for
from providers.discovery import DiscoverySummary, discover_models
from providers.errors import UpstreamError
from providers.http import upstream_client
from providers.models import Capability, Model, ModelSource, Provider
from providers.probes import ProbeReport, claim_due_providers, probe_provider, probe_providers
from providers.types import ChatMessage, ChatRequest, EmbedRequest, Usage

__all__ = [
    "DiscoverySummary",
    "ProbeReport",
    "TestPromptResult",
    "claim_due_providers",
    "discover_models",
    "probe_model_kind",
    "probe_provider",
    "probe_providers",
    "send_test_prompt",
]

TEST_PROMPT = "Reply with one short sentence: are you there?"


@dataclass(frozen=True)
class TestPromptResult:
    model: str
    ok: bool
    answer: str
    latency_ms: float
    usage: Usage = Usage()

    def __str__(self) -> str:
        tokens = f"{self.usage.input_tokens} in / {self.usage.output_tokens} out"
        verdict = "answered" if self.ok else "failed"
        return f"{self.model} {verdict} in {self.latency_ms:.0f} ms ({tokens}): {self.answer}"


def send_test_prompt(
    *, model: Model, prompt: str = TEST_PROMPT, actor: str = "admin"
) -> TestPromptResult:
    """Call one model through its provider's adapter, as a gateway call would, and
    record the call (door `admin`, client `admin:<actor>`)."""
    started_at = timezone.now()
    result = async_to_sync(_send_test_prompt)(model, model.provider, prompt)
    record_call_sync(_record(model, result, actor, started_at))
    return result


def _record(
    model: Model, result: TestPromptResult, actor: str, started_at: object
) -> CallRecordData:
    embeds = model.serves(Capability.EMBED) and not model.serves(Capability.CHAT)
    return CallRecordData(
        request_id=f"admin-test-{uuid.uuid4().hex[:12]}", trace_id=uuid.uuid4().hex,
        method=CallMethod.EMBED if embeds else CallMethod.CHAT, door=CallDoor.ADMIN,
        outcome=CallOutcome.SUCCESS if result.ok else CallOutcome.UPSTREAM_ERROR,
        started_at=started_at, client_name=f"admin:{actor}"[:128], caller_tool="test prompt",
        provider=model.provider.key, model=model.model_id, strategy="caller-override",
        error_class="" if result.ok else "UPSTREAM",
        message="" if result.ok else result.answer[:255],
        latency_ms=round(result.latency_ms), input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
    )  # fmt: skip


async def _send_test_prompt(model: Model, provider: Provider, prompt: str) -> TestPromptResult:
    started = time.perf_counter()
    try:
        async with upstream_client() as client:
            adapter = provider.adapter(client)
            if model.serves(Capability.CHAT) or not model.serves(Capability.EMBED):
                request = ChatRequest(model.model_id, (ChatMessage("user", prompt),), max_tokens=64)
                result = await adapter.chat(request)
                answer, usage = result.message.content, result.usage
            else:
                embedded = await adapter.embed(EmbedRequest(model.model_id, (prompt,)))
                answer = f"a vector of {len(embedded.vectors[0])} dimensions"
                usage = embedded.usage
    except UpstreamError as exc:
        return TestPromptResult(str(model), False, exc.detail, _ms_since(started))
    return TestPromptResult(str(model), True, answer, _ms_since(started), usage)


def probe_model_kind(*, model: Model) -> str | None:
    """What the model really is, asked of it once, when an operator wants to know:
    `embeddings` if it embeds one word, `llm` if it answers a one-token chat,
    None if it does neither. Nothing is saved: see `settle_model_kind`."""
    return async_to_sync(_probe_model_kind)(model, model.provider)


async def _probe_model_kind(model: Model, provider: Provider) -> str | None:
    async with upstream_client() as client:
        adapter = provider.adapter(client)
        try:
            await adapter.embed(EmbedRequest(model.model_id, ("probe",)))
            return "embeddings"
        except UpstreamError:
            pass
        try:
            await adapter.chat(ChatRequest(model.model_id, (ChatMessage("user", "hi"),), 0, 1))
            return "llm"
        except UpstreamError:
            return None


def settle_model_kind(model: Model, kind: str) -> None:
    """The operator's decision on a model's kind: discovery keeps it from now on."""
    model.kind, model.capabilities = kind, list(capabilities_for(kind))
    model.source = ModelSource.DECLARED
    model.full_clean()


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
