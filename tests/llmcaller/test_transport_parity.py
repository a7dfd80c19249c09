"""The v1 transport answers as Django's own handler would, request for request.

Each test sends the same request over loopback to the gateway (its own
transport) and to Django's `ASGIHandler` serving the same URL map, and
compares what comes back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest
from django.urls import path

from llmcaller.transport import ApiTransport
from tests.gateway import serving
from tests.llmcaller.helpers import chat_body

OPENED: list = []


async def file_view(request: HttpRequest) -> FileResponse:
    """A response holding a resource that only `response.close()` frees."""
    handle = open(Path(__file__), "rb")  # the response owns it, and closes it
    OPENED.append(handle)
    return FileResponse(handle)


urlpatterns = [path("file", file_view)]


def _serve(app) -> Iterator[str]:
    with serving(app, name="parity", lifespan="off") as url:
        yield url


@pytest.fixture
def django_handler(transactional_db) -> Iterator[str]:
    """Django's handler alone, serving the gateway's URL map (the v1 views too)."""
    yield from _serve(ASGIHandler())


def _chunked(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 4096):  # no Content-Length: Transfer-Encoding chunked
        yield data[start : start + 4096]


def _answer(response: httpx.Response) -> tuple[int, dict]:
    body = response.json()
    body.pop("traceId", None)
    return response.status_code, body


def test_an_over_long_chunked_body_is_refused_as_django_refuses_a_long_one(
    api, django_handler, token, provider, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    data = json.dumps(chat_body("x" * 20_000)).encode()
    headers = {"x-llm-caller-token": token, "content-type": "application/json"}

    ours = api.post("/mcp/chat", content=_chunked(data), headers=headers)
    django = httpx.post(f"{django_handler}/mcp/chat", content=data, headers=headers, timeout=10)

    assert "content-length" not in ours.request.headers
    assert _answer(ours) == _answer(django)
    assert _answer(ours) == (
        400,
        {"error": "BAD_REQUEST", "message": "The request body is larger than 10000 bytes."},
    )


def test_a_chunked_body_within_the_limit_is_served(api, provider, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    data = json.dumps(chat_body("x" * 9_000)).encode()
    headers = {"content-type": "application/json"}

    assert api.post("/mcp/chat", content=_chunked(data), headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/mcp/chat", "/health", "/livez"])
def test_a_host_outside_allowed_hosts_gets_djangos_own_400(api, django_handler, path, settings):
    settings.ALLOWED_HOSTS = ["gateway.internal"]
    headers = {"host": "evil.example"}
    method = "POST" if path == "/mcp/chat" else "GET"
    body = chat_body() if method == "POST" else None

    ours = api.request(method, path, json=body, headers=headers)
    django = httpx.request(method, f"{django_handler}{path}", json=body, headers=headers)

    assert ours.status_code == django.status_code == 400
    assert ours.text == django.text
    assert api.get("/livez", headers={"host": "gateway.internal"}).status_code == 200


# FileResponse iterates a file synchronously; both handlers say so, and that is fine here.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_the_response_is_closed_once_sent_as_django_closes_it(transactional_db, settings):
    settings.ROOT_URLCONF = __name__
    OPENED.clear()
    apps = {"django": ASGIHandler(), "ours": ApiTransport({"/file": file_view}, ASGIHandler())}

    for name, app in apps.items():
        for url in _serve(app):
            response = httpx.get(f"{url}/file", timeout=10)
            assert response.status_code == 200, name
            assert response.content == Path(__file__).read_bytes()

    assert [handle.closed for handle in OPENED] == [True, True]
