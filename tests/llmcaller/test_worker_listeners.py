"""Several workers share the connections between them (llmcaller.listener): a
pool of keep-alive connections opened at once must not all land on one worker,
which would leave the other idle for as long as the pool lives."""

from __future__ import annotations

import os
import pickle
import socket
import time
from collections import Counter
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

from llmcaller.listener import worker_listener
from tests.llmcaller.served import served_gateway

CONNECTIONS = 32


def test_each_worker_gets_a_socket_of_its_own_at_the_supervisors_address():
    with worker_listener("127.0.0.1", 0) as supervisor:
        address = supervisor.getsockname()
        with pickle.loads(ForkingPickler.dumps(supervisor)) as worker:
            assert worker.getsockname() == address
            assert worker.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            worker.listen()
            # A socket of its own, not a copy of the supervisor's: that one
            # still does not listen (a copy would share its state and queue).
            assert worker.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
            assert supervisor.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0
            with socket.create_connection(address, timeout=5):
                accepted, _ = worker.accept()
                accepted.close()


def test_a_pool_of_connections_opened_at_once_reaches_both_workers(tmp_path, upstream):
    with served_gateway(tmp_path, upstream.url, "pool-test", workers=2) as gateway:
        port = int(gateway.url.rsplit(":", 1)[1])
        _wait_for_listeners(port, 2)  # the workers start one after the other
        pool = [
            socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(CONNECTIONS)
        ]
        try:
            for connection in pool:  # each answered, so each has been accepted
                connection.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for connection in pool:
                assert connection.recv(65536).startswith(b"HTTP/1.1 200")
            per_worker = _connections_per_process(port, _children(gateway.server.pid))
        finally:
            for connection in pool:
                connection.close()

    assert sum(per_worker.values()) == CONNECTIONS
    assert len(per_worker) == 2, per_worker
    # The kernel spreads them by address: one worker with a handful would be the
    # shared accept queue's burst again (all but one or two on the first awake).
    assert min(per_worker.values()) >= CONNECTIONS // 8, per_worker


def _wait_for_listeners(port: int, count: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while len(_sockets(port, "0A")) < count:  # 0A: LISTEN
        assert time.monotonic() < deadline, f"fewer than {count} sockets listen on {port}"
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _connections_per_process(port: int, pids: list[int]) -> Counter:
    """Established connections to `port`, by the worker whose file table holds them."""
    established = _sockets(port, "01")  # 01: ESTABLISHED
    counts = Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in established:
                counts[pid] += 1
    return counts


def _sockets(port: int, state: str) -> set[str]:
    """The inodes of the sockets on local `port` in `state` (the kernel's code)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes
