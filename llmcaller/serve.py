"""`python -m llmcaller.serve`: the gateway under uvicorn, as `make serve` runs it.

Host, port and worker count come from settings (LLMCALLER_HOST, LLMCALLER_PORT,
LLMCALLER_WORKERS). uvloop and httptools, no access log: the DESIGN performance
notes measured each of these on the hot path. The system checks run first (with
`--deploy`'s in the production profile), and an error stops the start: a weak
secret key in production, or several workers without Redis (llmcaller.checks).
"""

from __future__ import annotations

import os
import sys

import uvicorn


def main() -> None:
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
