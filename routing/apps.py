from __future__ import annotations

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self) -> None:
        from routing import checks, receivers  # noqa: F401  (registers checks)

        receivers.connect()
