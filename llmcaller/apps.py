"""The gateway's transport app: client registry, API views, checks."""

from __future__ import annotations

from django.apps import AppConfig


class LlmcallerConfig(AppConfig):
    name = "llmcaller"
    verbose_name = "Clients and API"

    def ready(self) -> None:
        from django.db.models.signals import post_delete
        from oauth2_provider.models import get_access_token_model

        from llmcaller import checks  # noqa: F401  (registers the system checks)
        from llmcaller.oauth import forget_deleted_access_token

        post_delete.connect(forget_deleted_access_token, sender=get_access_token_model())
