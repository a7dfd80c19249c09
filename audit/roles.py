"""The QA group: reviewers who read the audit trail and the provider set-up.

QA can view every audit model (the dashboard included) and view, never change,
providers and their models. QA records and updates pilots' findings and their
follow-ups (the backlog, not configuration). The data migration calls `ensure_qa_group` with the
historical app registry; tests that flush the database call it again.
"""

from __future__ import annotations

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q

QA_GROUP = "QA"
PROVIDER_VIEW_PERMISSIONS = ("view_provider", "view_model")
BACKLOG_PERMISSIONS = ("add_finding", "change_finding", "add_followup", "change_followup")


def ensure_qa_group(apps: Apps) -> object:
    """Create (or complete) the QA group and return it."""
    _create_missing_permissions(apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=QA_GROUP)
    group.permissions.add(
        *permission_model.objects.filter(
            Q(content_type__app_label="audit", codename__startswith="view_")
            | Q(content_type__app_label="audit", codename__in=BACKLOG_PERMISSIONS)
            | Q(content_type__app_label="providers", codename__in=PROVIDER_VIEW_PERMISSIONS)
        )
    )
    return group


def _create_missing_permissions(apps: Apps) -> None:
    # Permissions are normally made after all migrations (post_migrate); a data
    # migration that grants them has to make them first.
    for app_config in apps.get_app_configs():
        if app_config.label not in ("audit", "providers"):
            continue
        # The migration's app stubs have no models module; create_permissions
        # skips such apps unless told otherwise.
        loaded = getattr(app_config, "models_module", None)
        app_config.models_module = loaded or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = loaded
