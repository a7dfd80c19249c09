from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from audit import checks, roles  # noqa: F401  (register the checks and role sync)
        from audit.pilots import open_pilots_panel
        from audit.releases import release_gates_panel
        from audit.review import register_review_panel

        register_review_panel(release_gates_panel)
        register_review_panel(open_pilots_panel)
