"""The shared flow's failure mapping: status codes, transport errors and bodies
become `providers.errors` with our own words, whichever kind is speaking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from providers.adapters.openai_compatible import OpenAICompatibleAdapter
from providers.errors import (
    UpstreamAuthRejected,
    UpstreamError,
    UpstreamPermanent,
    UpstreamRateLimited,
    UpstreamTemporary,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from tests.providers.adapters.recorded import openai as recorded
from tests.providers.adapters.support import (
    SENTINEL,
    UPSTREAM_SECRET,
    BrokenStream,
    assert_no_leak,
    build,
    chat_request,
    collect,
    on_base_url,
    sse,
)

ERROR_BODY = {"error": {"message": f"{UPSTREAM_SECRET} key {SENTINEL} is bad", "code": "x"}}


def adapter_answering(response: httpx.Response) -> OpenAICompatibleAdapter:
    return build(OpenAICompatibleAdapter, lambda request: response, kind="openai_compatible")


def adapter_never_answering() -> OpenAICompatibleAdapter:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"failed talking with {SENTINEL}", request=request)

    return build(OpenAICompatibleAdapter, handler, kind="openai_compatible", timeout=0.2)


def adapter_refused(down_url: str) -> OpenAICompatibleAdapter:
    return on_base_url(OpenAICompatibleAdapter, down_url, kind="openai_compatible")


async def test_it_maps_429_to_rate_limited_with_retry_after_seconds() -> None:
    adapter = adapter_answering(httpx.Response(429, headers={"Retry-After": "17"}, json=ERROR_BODY))
    with pytest.raises(UpstreamRateLimited) as caught:
        await adapter.chat(chat_request())
    assert caught.value.retry_after == 17.0
    assert_no_leak(caught.value)


async def test_it_reads_retry_after_given_as_an_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    adapter = adapter_answering(httpx.Response(429, headers={"Retry-After": when}))
    with pytest.raises(UpstreamRateLimited) as caught:
        await adapter.chat(chat_request())
    assert 25.0 < caught.value.retry_after <= 30.0


async def test_it_leaves_retry_after_unknown_when_429_has_none() -> None:
    adapter = adapter_answering(httpx.Response(429))
    with pytest.raises(UpstreamRateLimited) as caught:
        await adapter.chat(chat_request())
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, UpstreamAuthRejected),
        (403, UpstreamAuthRejected),
        (404, UpstreamPermanent),
        (400, UpstreamPermanent),
        (500, UpstreamTemporary),
        (503, UpstreamTemporary),
    ],
)
async def test_it_maps_each_status_to_its_error_without_upstream_text(
    status: int, expected: type[UpstreamError]
) -> None:
    adapter = adapter_answering(httpx.Response(status, json=ERROR_BODY))
    with pytest.raises(UpstreamError) as caught:
        await adapter.chat(chat_request())
    assert type(caught.value) is expected
    assert caught.value.status == status
    assert_no_leak(caught.value)


async def test_it_maps_a_timeout_to_upstream_timeout() -> None:
    with pytest.raises(UpstreamTimeout) as caught:
        await adapter_never_answering().chat(chat_request())
    assert_no_leak(caught.value)


async def test_it_maps_a_stream_that_never_answers_to_upstream_timeout() -> None:
    with pytest.raises(UpstreamTimeout):
        await collect(adapter_never_answering().stream_chat(chat_request()))


async def test_it_maps_a_refused_connection_to_unreachable(down_url: str) -> None:
    with pytest.raises(UpstreamUnreachable) as caught:
        await adapter_refused(down_url).list_models()
    assert_no_leak(caught.value)


async def test_it_maps_a_refused_connection_on_a_stream_to_unreachable(down_url: str) -> None:
    with pytest.raises(UpstreamUnreachable):
        await collect(adapter_refused(down_url).stream_chat(chat_request()))


async def test_it_maps_a_hang_up_without_an_answer_to_temporary() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError(f"hung up on {SENTINEL}", request=request)

    adapter = build(OpenAICompatibleAdapter, handler, kind="openai_compatible")
    with pytest.raises(UpstreamTemporary) as caught:
        await adapter.chat(chat_request())
    assert not isinstance(caught.value, UpstreamUnreachable)
    assert_no_leak(caught.value)


async def test_it_treats_a_body_that_is_not_json_as_temporary() -> None:
    adapter = adapter_answering(httpx.Response(200, text=f"<html>{UPSTREAM_SECRET}</html>"))
    with pytest.raises(UpstreamTemporary) as caught:
        await adapter.chat(chat_request())
    assert "malformed" in caught.value.detail
    assert_no_leak(caught.value)


async def test_it_treats_json_of_the_wrong_shape_as_temporary() -> None:
    adapter = adapter_answering(httpx.Response(200, json={"choices": [], "note": UPSTREAM_SECRET}))
    with pytest.raises(UpstreamTemporary) as caught:
        await adapter.chat(chat_request())
    assert_no_leak(caught.value)


async def test_it_maps_a_stream_broken_midway_to_temporary_after_the_first_delta() -> None:
    first = recorded.CHAT_STREAM.split("\n\n")[1].encode() + b"\n\n"
    adapter = adapter_answering(httpx.Response(200, stream=BrokenStream(first)))
    received = []
    with pytest.raises(UpstreamTemporary) as caught:
        async for event in adapter.stream_chat(chat_request()):
            received.append(event)
    assert [event.content for event in received] == ["Par"]
    assert "broke off" in caught.value.detail
    assert_no_leak(caught.value)


class ChunkedStream(httpx.AsyncByteStream):
    """A body sent in pieces of a few bytes, so lines arrive split."""

    def __init__(self, body: bytes, size: int) -> None:
        self.pieces = [body[i : i + size] for i in range(0, len(body), size)]

    async def __aiter__(self):
        for piece in self.pieces:
            yield piece


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
async def test_it_reads_a_stream_whatever_its_line_ends_and_pieces(line_end: str) -> None:
    body = recorded.CHAT_STREAM.replace("\n", line_end).encode()
    whole = await collect(adapter_answering(sse(recorded.CHAT_STREAM)).stream_chat(chat_request()))
    response = httpx.Response(200, stream=ChunkedStream(body, 7),
                              headers={"content-type": "text/event-stream"})  # fmt: skip
    pieces = await collect(adapter_answering(response).stream_chat(chat_request()))
    assert pieces == whole
    assert len(whole) > 2


@pytest.mark.parametrize("base_url", ["ftp://upstream.test", "http://upstream.test:99999"])
async def test_it_refuses_a_base_url_it_cannot_request(base_url: str) -> None:
    adapter = on_base_url(OpenAICompatibleAdapter, base_url, kind="openai_compatible")
    with pytest.raises(UpstreamPermanent, match="cannot be used"):
        await adapter.chat(chat_request())


async def test_it_maps_an_error_status_on_a_stream_before_any_delta() -> None:
    adapter = adapter_answering(httpx.Response(401, json=ERROR_BODY))
    with pytest.raises(UpstreamAuthRejected) as caught:
        await collect(adapter.stream_chat(chat_request()))
    assert_no_leak(caught.value)


async def test_it_treats_a_stream_ending_without_done_as_temporary() -> None:
    cut = recorded.CHAT_STREAM.split("data: [DONE]")[0]
    adapter = adapter_answering(httpx.Response(200, text=cut))
    with pytest.raises(UpstreamTemporary):
        await collect(adapter.stream_chat(chat_request()))
