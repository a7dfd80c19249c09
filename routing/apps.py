from __future__ import annotations

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self) -> None:
        from audit import trail
        from audit.review import register_review_panel
        from routing import checks, receivers  # noqa: F401  (registers checks)
        from routing.banner import pending_versions_panel
        from routing.versions import SUBJECT_KIND, TRAIL_FIELDS

        receivers.connect()
        trail.govern(SUBJECT_KIND, "routing.ConfigVersion", TRAIL_FIELDS)
        register_review_panel(pending_versions_panel)
