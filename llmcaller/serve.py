"""`python -m llmcaller.serve`: the gateway under uvicorn, as `make serve` runs it.

Host, port and worker count come from settings (LLMCALLER_HOST, LLMCALLER_PORT,
LLMCALLER_WORKERS). uvloop and httptools, no access log: the DESIGN performance
notes measured each of these on the hot path.
"""

from __future__ import annotations

import os

import uvicorn


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")
    from django.conf import settings

    uvicorn.run(
        "llmcaller.asgi:application",
        host=settings.LLMCALLER_HOST,
        port=settings.LLMCALLER_PORT,
        workers=settings.LLMCALLER_WORKERS,
        loop="uvloop",
        http="httptools",
        access_log=False,
        lifespan="on",
        # X-Forwarded-For is judged by the gateway (LLMCALLER_TRUSTED_PROXIES), not uvicorn.
        proxy_headers=False,
        log_level=settings.LOG_LEVEL.lower(),
    )


if __name__ == "__main__":
    main()
