"""A lean benchmark client: HTTP/1.1 keep-alive on bare asyncio streams, for
streams (time to the first content chunk and to the end) and exact call counts;
wrk does the plain calls. `bench/peer.py` drives it; run from the repository's
root, which puts this directory on sys.path.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time

# A content delta in either stream format (OpenAI's chunks, the v1 API's events).
DELTA = re.compile(rb'"delta":\s*\{[^}]*"content":\s*"[^"]')


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, path: str, body: bytes, headers: dict[str, str]) -> tuple:
        """POST; returns (status, ms to the first content delta or None, total ms,
        content deltas seen, body)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        head += "Content-Type: application/json\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        started = time.perf_counter()
        self.writer.write(head.encode() + body)
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(response_head.split(b" ", 2)[1])
        fields = {}
        for line in response_head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip().lower()
        first = None
        parts = []
        if fields.get(b"transfer-encoding") == b"chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                data = (await self.reader.readexactly(size + 2))[:-2]
                if first is None and DELTA.search(data):
                    first = (time.perf_counter() - started) * 1000
                parts.append(data)
        else:
            data = await self.reader.readexactly(int(fields.get(b"content-length", 0)))
            if DELTA.search(data):  # a whole stream in one body: its first chunk is here
                first = (time.perf_counter() - started) * 1000
            parts.append(data)
        total = (time.perf_counter() - started) * 1000
        if fields.get(b"connection") == b"close":
            self.close()
        content = b"".join(parts)
        return status, first, total, len(DELTA.findall(content)), content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def time_streams(
    port: int, request: dict, concurrency: int, *, seconds: float, sequential: int, chunks: int
) -> dict:
    """Streams at `concurrency`: `sequential` one after another at 1, else as many
    as fit in `seconds`. A stream is good when it answers 200 with all `chunks`
    content deltas and `[DONE]`."""
    body = json.dumps(request["body"]).encode()
    firsts, totals, errors = [], [], 0
    deadline = time.perf_counter() + seconds
    remaining = sequential if concurrency == 1 else None

    async def worker() -> None:
        nonlocal errors, remaining
        connection = Connection(port)
        while time.perf_counter() < deadline if remaining is None else remaining > 0:
            if remaining is not None:
                remaining -= 1
            try:
                status, first, total, deltas, content = await connection.call(
                    request["path"], body, request["headers"]
                )
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                connection.close()
                continue
            if status != 200 or deltas != chunks or b"[DONE]" not in content or first is None:
                errors += 1
                continue
            firsts.append(first)
            totals.append(total)
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"first_p50": median(firsts), "first_p99": p99(firsts), "total_p50": median(totals),
            "total_p99": p99(totals), "rate": len(totals) / elapsed, "errors": errors,
            "calls": len(totals) + errors}  # fmt: skip


async def exact_calls(port: int, requests: list[dict], calls: int, concurrency: int) -> dict:
    """`calls` calls spread over `requests`, `concurrency` at a time: (made, answered 200)."""
    queue = [requests[i % len(requests)] for i in range(calls)]
    answered = 0

    async def worker() -> None:
        nonlocal answered
        connection = Connection(port)
        while queue:
            request = queue.pop()
            body = json.dumps(request["body"]).encode()
            try:
                status, *_ = await connection.call(request["path"], body, request["headers"])
                answered += status == 200
            except (OSError, asyncio.IncompleteReadError):
                connection.close()
        connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"made": calls, "answered": answered}


async def one(port: int, request: dict) -> tuple:
    connection = Connection(port)
    try:
        return await connection.call(
            request["path"], json.dumps(request["body"]).encode(), request["headers"]
        )
    finally:
        connection.close()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]
