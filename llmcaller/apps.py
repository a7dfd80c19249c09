"""The gateway's transport app: client registry, API views, checks."""

from __future__ import annotations

from django.apps import AppConfig


class LlmcallerConfig(AppConfig):
    name = "llmcaller"
    verbose_name = "Clients and API"

    def ready(self) -> None:
        from llmcaller import checks  # noqa: F401  (registers the system checks)
