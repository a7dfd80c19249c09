"""The gateway under a real uvicorn server on a loopback port, in a thread.

Running in the test process lets the server share the test database (tests that
use it need `transactional_db`), while every request still crosses a real socket
and the real ASGI stack, lifespan included.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from django.conf import settings

# Test servers keep an idle connection longer than their clients pool it (httpx
# 5 s, aiohttp 15 s), as the gateway does with LLMCALLER_KEEP_ALIVE_SECONDS: at
# uvicorn's own 5 s, a client could send onto a connection at the moment the
# server closes it, and fail on the reset.
_LOOPBACK = {"host": "127.0.0.1", "port": 0, "log_level": "warning", "timeout_keep_alive": 75}


@contextmanager
def running_gateway() -> Iterator[str]:
    with serving(
        "llmcaller.asgi:application",
        name="gateway",
        lifespan="on",
        timeout_keep_alive=settings.LLMCALLER_KEEP_ALIVE_SECONDS,
        proxy_headers=False,  # the gateway decides whom to believe (LLMCALLER_TRUSTED_PROXIES)
        access_log=False,
    ) as url:
        yield url


@contextmanager
def serving(app: Any, *, name: str, **options: Any) -> Iterator[str]:
    """Run `app` under uvicorn in a thread, with uvicorn's `options` over the
    loopback ones; yield its URL."""
    server = uvicorn.Server(uvicorn.Config(app, **{**_LOOPBACK, **options}))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    # A readiness wait, not a timing check: a busy machine may take a while.
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"The {name} server did not start.")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
