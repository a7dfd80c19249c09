"""`python -m llmcaller.serve`: the gateway under uvicorn, as `make serve` runs it.

Host, port and worker count come from settings (LLMCALLER_HOST, LLMCALLER_PORT,
LLMCALLER_WORKERS). uvloop and httptools, no access log: the DESIGN performance
notes measured each of these on the hot path. Several workers each listen on a
socket of their own (`llmcaller.listener`), so the kernel spreads connections
over them.

Before any worker starts, `PROMETHEUS_MULTIPROC_DIR` names an empty directory
(a fresh temporary one unless the deployment names its own, which is emptied),
so every worker's metrics add up in `/metrics` whichever worker is scraped.
The system checks run first (with
`--deploy`'s in the production profile), and an error stops the start: a weak
secret key in production, say (llmcaller.checks).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from llmcaller.listener import worker_listener

# Not imported from llmcaller.metrics: prometheus-client picks its storage when it
# is first imported, so this process must not import it before the variable is set.
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def main() -> None:
    prepare_metrics_dir()  # before the checks import the apps (and prometheus-client)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    django.setup()
    try:
        call_command("check", deploy=settings.PRODUCTION, fail_level="ERROR")
    except SystemCheckError as exc:
        sys.exit(f"The gateway does not start:\n{exc}")

    config = uvicorn.Config(
        "llmcaller.asgi:application",
        host=settings.LLMCALLER_HOST,
        port=settings.LLMCALLER_PORT,
        workers=settings.LLMCALLER_WORKERS,
        loop="uvloop",
        http="httptools",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=settings.LLMCALLER_KEEP_ALIVE_SECONDS,
        # X-Forwarded-For is judged by the gateway (LLMCALLER_TRUSTED_PROXIES), not uvicorn.
        proxy_headers=False,
        log_level=settings.LOG_LEVEL.lower(),
    )
    if config.workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    try:  # uvicorn.run's own worker start, but with a listening socket per worker
        listener = worker_listener(config.host, config.port)
    except OSError as exc:
        sys.exit(f"The gateway does not start: {config.host}:{config.port}: {exc.strerror}")
    logging.getLogger("uvicorn.error").info(
        "Listening on http://%s:%d, %d workers", config.host, config.port, config.workers
    )
    Multiprocess(config, sockets=[listener]).run()


def prepare_metrics_dir() -> Path:
    """An empty directory for the workers' metric files: values left by an earlier
    run would otherwise be added to this one's."""
    named = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    path = Path(named) if named else Path(tempfile.mkdtemp(prefix="llmcaller-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(path)
    return path


if __name__ == "__main__":
    main()
