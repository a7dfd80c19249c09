"""The deployed gateway keeps an idle keep-alive connection for
LLMCALLER_KEEP_ALIVE_SECONDS, not uvicorn's 5 s: a caller whose pool keeps
connections 5 s (httpx, the openai SDK) or a load balancer's 60 s must be the
one to drop it, or it may send a request onto a connection being closed and
read a reset."""

from __future__ import annotations

import time
from http.client import HTTPConnection

from tests.llmcaller.served import served_gateway

UVICORN_DEFAULT_SECONDS = 5


def test_an_idle_connection_outlives_uvicorns_default_keep_alive(tmp_path, upstream):
    with served_gateway(
        tmp_path, upstream.url, "keep-alive", workers=1, LLMCALLER_KEEP_ALIVE_SECONDS="60"
    ) as gateway:
        connection = HTTPConnection(gateway.url.removeprefix("http://"), timeout=10)
        try:
            connection.request("GET", "/livez")
            first = connection.getresponse()
            first.read()
            time.sleep(UVICORN_DEFAULT_SECONDS + 1.5)  # idle past uvicorn's own timeout
            # http.client sends on the same socket; a closed one fails here.
            connection.request("GET", "/livez")
            second = connection.getresponse()
            second.read()
        finally:
            connection.close()
    assert (first.status, second.status) == (200, 200)
