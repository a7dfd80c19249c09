"""The listening socket of a gateway with several workers: one per worker.

uvicorn binds one socket in its supervisor and hands it to every worker, so the
workers share one accept queue, and the one that wakes first accepts the whole
burst waiting there (uvloop accepts until the queue is empty). Clients that
keep their connections (a pool of 64, a proxy) then land mostly on one worker
while the other idles: measured here, 64 keep-alive connections got 986 calls/s
from 2 workers in one run and 1,490 in the next.

With SO_REUSEPORT each worker listens on a socket of its own at the same
address, and the kernel spreads new connections over them by their addresses.
The price: when one worker stops on its own (a crash, uvicorn restarting its
workers one by one), the connections still queued at its socket are reset
instead of being taken by another worker.
"""

from __future__ import annotations

import socket


class WorkerListener(socket.socket):
    """The supervisor's socket, which holds the address (a clash fails at start);
    each worker that unpickles it gets a fresh socket at the same address instead
    of a copy of this one, which would share its accept queue."""

    def __reduce__(self):  # multiprocessing pickles it into each spawned worker
        host, port = self.getsockname()[:2]
        return (reuse_port_socket, (self.family, host, port))


def reuse_port_socket(
    family: socket.AddressFamily, host: str, port: int, cls: type[socket.socket] = socket.socket
) -> socket.socket:
    sock = cls(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def worker_listener(host: str, port: int) -> WorkerListener:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return reuse_port_socket(family, host, port, WorkerListener)
