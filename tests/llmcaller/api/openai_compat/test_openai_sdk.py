"""Acceptance: the official `openai` SDK, pointed at the gateway's /v1, served by
the real ASGI server over loopback, against the sandbox upstream."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import openai
import pytest

from audit.models import CallRecord
from llmcaller.tokens import issue_token
from providers.models import Model, Provider
from tests.factories import ClientFactory
from tests.llmcaller.helpers import CHAT_MODEL, EMBED_MODEL
from tests.routing.factories import FallbackStepFactory
from tests.sandbox import SandboxUpstream

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def _sdk(gateway: str, token: str) -> openai.OpenAI:
    # No retries: each test sees the gateway's first answer, and none sleeps.
    return openai.OpenAI(base_url=f"{gateway}/v1", api_key=token, max_retries=0, timeout=10)


@pytest.fixture
def sdk(gateway: str, token: str, provider: Provider) -> Iterator[openai.OpenAI]:
    chat = Model.objects.get(provider=provider, model_id=CHAT_MODEL)
    chat.tool_use = True
    chat.save()  # a save publishes the configuration routing reads (an update() would not)
    with _sdk(gateway, token) as client:
        yield client


def test_it_lists_models_chains_and_auto(gateway: str, token: str, provider: Provider) -> None:
    chat = Model.objects.get(provider=provider, model_id=CHAT_MODEL)
    FallbackStepFactory(chain__name="chat-safety", model=chat)  # its save publishes it
    with _sdk(gateway, token) as sdk:
        ids = [model.id for model in sdk.models.list()]
    assert f"sandbox/{CHAT_MODEL}" in ids and f"sandbox/{EMBED_MODEL}" in ids
    assert "chat-safety" in ids
    assert "auto" in ids and "auto:coding" in ids


def test_it_completes_a_chat_and_names_the_route(sdk: openai.OpenAI) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "hello there"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Sandbox reply to: hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (2, 5)
    assert raw.headers["x-llmcaller-provider"] == "sandbox"
    assert raw.headers["x-llmcaller-model"] == CHAT_MODEL
    assert raw.headers["x-llmcaller-strategy"] == "capability-default"
    record = CallRecord.objects.get(trace_id=raw.headers["x-request-id"])
    assert (record.door, record.method, record.outcome) == ("openai", "chat", "success")
    assert len(raw.headers["x-llmcaller-config-hash"]) == 64
    assert record.config_hash == raw.headers["x-llmcaller-config-hash"]


def test_it_streams_a_chat_with_usage_last(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model=f"sandbox/{CHAT_MODEL}", messages=[{"role": "user", "content": "hi"}],
        stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Sandbox reply to: hi"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == [] and (last.usage.prompt_tokens, last.usage.completion_tokens) == (1, 4)
    assert all(c.usage is None for c in chunks[:-1])


def test_a_stream_without_usage_from_upstream_still_ends_with_an_estimate(
    sdk: openai.OpenAI, upstream: SandboxUpstream
) -> None:
    upstream.set(omit_stream_usage=True)
    raw = sdk.chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "hi"}],
        stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(raw.parse())
    usage = chunks[-1].usage
    # providers.usage_estimate: ceil(2 / 4) + 4 for the message; the 20-character reply
    assert (usage.prompt_tokens, usage.completion_tokens) == (1 + 4, math.ceil(20 / 4))
    record = CallRecord.objects.get(trace_id=raw.headers["x-request-id"])
    assert record.usage_estimated and record.method == "chatStream"


def test_a_tool_call_round_trip(sdk: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Paris"}]
    asked = sdk.chat.completions.create(model="auto", messages=messages, tools=[WEATHER])
    choice = asked.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"},
    ]
    answered = sdk.chat.completions.create(model="auto", messages=messages, tools=[WEATHER])
    assert answered.choices[0].message.content == "Sandbox reply to tool result: sunny, 21 C"


def test_a_streamed_tool_call_arrives_as_deltas(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "Oslo"}], tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}}, stream=True,
    )  # fmt: skip
    pieces = [p for c in stream for p in (c.choices[0].delta.tool_calls or []) if c.choices]
    assert pieces[0].id and pieces[0].function.name == "get_weather"
    arguments = "".join(p.function.arguments or "" for p in pieces)
    assert json.loads(arguments) == {"city": "Oslo"}


def test_a_model_without_tool_use_is_skipped_with_the_reason(
    gateway: str, token: str, provider: Provider
) -> None:
    with _sdk(gateway, token) as sdk, pytest.raises(openai.UnprocessableEntityError) as caught:
        sdk.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], tools=[WEATHER]
        )
    assert "does not serve tools" in caught.value.message


def test_it_embeds_with_the_default_base64_and_with_floats(sdk: openai.OpenAI) -> None:
    floats = sdk.embeddings.create(model=EMBED_MODEL, input=["a", "b c"], encoding_format="float")
    decoded = sdk.embeddings.create(model=EMBED_MODEL, input=["a", "b c"])  # base64 on the wire
    assert len(floats.data) == 2 and len(floats.data[0].embedding) == 8
    for plain, packed in zip(floats.data, decoded.data, strict=True):
        # float32 on the wire: equal to the floats within float32's precision
        assert packed.embedding == pytest.approx(plain.embedding, rel=1e-6, abs=1e-7)
    sized = sdk.embeddings.create(model=EMBED_MODEL, input="a", dimensions=4)
    assert len(sized.data[0].embedding) == 4


def test_responses_create_plain_and_streaming(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model="auto", input="hi", instructions="Be brief.")
    assert response.output_text == "Sandbox reply to: hi"
    assert response.status == "completed" and response.usage.output_tokens == 4
    events = list(
        sdk.responses.create(
            model="auto",
            stream=True,
            input=[{"role": "user", "content": [{"type": "input_text", "text": "hey"}]}],
        )  # fmt: skip
    )
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added",
    ]  # fmt: skip
    assert kinds[-4:] == [
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.completed",
    ]  # fmt: skip
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "Sandbox reply to: hey" == events[-1].response.output_text
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_a_wrong_token_is_an_authentication_error(gateway: str, provider: Provider) -> None:
    with _sdk(gateway, "llmc_wrong") as sdk, pytest.raises(openai.AuthenticationError) as caught:
        sdk.models.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "unauthenticated"
    assert caught.value.response.headers["x-request-id"]


def test_a_method_not_allowed_is_permission_denied(gateway: str, provider: Provider) -> None:
    token = issue_token(client=ClientFactory(allowed_methods=["embed"])).raw
    with _sdk(gateway, token) as sdk, pytest.raises(openai.PermissionDeniedError):
        sdk.chat.completions.create(model="auto", messages=[{"role": "user", "content": "x"}])


def test_a_throttled_upstream_is_a_rate_limit_error_with_the_clamped_hint(
    sdk: openai.OpenAI, upstream: SandboxUpstream
) -> None:
    upstream.set(rate_limit_retry_after=3600)
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.chat.completions.create(model="auto", messages=[{"role": "user", "content": "x"}])
    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("60", "60000")
    assert caught.value.code == "rate_limit"


@pytest.mark.usefixtures("clock")  # 30 s into a minute: both calls share its window
def test_a_client_over_its_limit_is_a_rate_limit_error(gateway: str, provider: Provider) -> None:
    token = issue_token(client=ClientFactory(requests_per_minute=1)).raw
    with _sdk(gateway, token) as sdk:
        sdk.models.list()
        with pytest.raises(openai.RateLimitError) as caught:
            sdk.models.list()
    assert caught.value.response.headers["retry-after"] == "30"  # the window's other half


def test_an_invalid_body_is_a_bad_request_naming_the_field(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "x"}], temperature=5
        )
    assert caught.value.param == "temperature"
    assert caught.value.type == "invalid_request_error"
