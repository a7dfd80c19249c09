from __future__ import annotations

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self) -> None:
        from audit import evidence, trail
        from audit.review import register_review_panel
        from routing import checks, receivers  # noqa: F401  (registers checks)
        from routing.banner import pending_versions_panel
        from routing.evidence import describe_version
        from routing.versions import SUBJECT_KIND, TRAIL_FIELDS

        receivers.connect()
        trail.govern(SUBJECT_KIND, "routing.ConfigVersion", TRAIL_FIELDS)
        evidence.provide_configuration(describe_version)
        register_review_panel(pending_versions_panel)
