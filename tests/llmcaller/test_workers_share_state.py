"""Several workers of the embedded default, without Redis, hold one client's
limits together (llmcaller.machine_cache): the gateway as deployed, in its own
processes, with the kernel handing each connection to either worker."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.llmcaller.helpers import chat_body
from tests.llmcaller.served import served_gateway

STREAMS, CAP = 12, 2


def test_two_workers_without_redis_hold_one_stream_cap_together(tmp_path, upstream):
    with served_gateway(tmp_path, upstream.url, "cap-test", methods="chat,chatStream") as gateway:
        with sqlite3.connect(gateway.database) as db:
            db.execute("UPDATE llmcaller_client SET max_concurrent_streams = ? "
                       "WHERE tool_id = 'cap-test'", (CAP,))  # fmt: skip
        upstream.set(latency_ms=1500)  # the streams let in stay open while the rest arrive
        start = threading.Barrier(STREAMS)

        def open_stream(_: int) -> int:
            start.wait()
            # A connection of its own each: either worker may take it.
            with httpx.Client(timeout=30) as http:
                response = http.post(f"{gateway.url}/mcp/chatStream", json=chat_body(),
                                     headers={"x-llm-caller-token": gateway.token})  # fmt: skip
                return response.status_code

        with ThreadPoolExecutor(max_workers=STREAMS) as pool:
            statuses = Counter(pool.map(open_stream, range(STREAMS)))

    assert statuses == {200: CAP, 429: STREAMS - CAP}
