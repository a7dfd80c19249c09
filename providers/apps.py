from __future__ import annotations

from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"

    def ready(self) -> None:
        from django.test.signals import setting_changed

        from providers import checks  # noqa: F401  (registers the system checks)
        from providers.tracing import forget_tracing_setting

        setting_changed.connect(forget_tracing_setting)
