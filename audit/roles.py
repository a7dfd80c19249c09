"""The roles reviewers and operators sign in with, as groups of least privilege.

Every role reads everything the gateway keeps (each model of providers, routing,
clients and audit, models added later included) and changes nothing else, except:

- Operators change configuration and clients: providers, models, routing
  records and clients; they publish the working copy as a configuration version
  and re-activate an approved one; they revoke tokens (OAuth ones too), and run
  the actions that call upstreams ("Probe now", "Discover models", "Send a test
  prompt", which spends paid tokens) or issue a token. They sign nothing, so no
  one approves their own work.
- Operations watch health ("Probe now") and sign off.
- QA and Assessors sign off (configuration versions included), and change no
  configuration and spend nothing.
- Product signs off releases and pilots (`audit.sign_off_release`).
- QA and Assessors also record the backlog pilots produce (findings and their
  follow-ups); Operators run pilots and their UAT runs.
- Superusers administer users and groups; no role can.

The migration creates the groups; after every `migrate` (and each test flush)
`ensure_roles` sets them again from this module, so a model added later is
readable by every role and a permission granted by hand does not linger.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q
from django.db.models.signals import post_migrate
from django.dispatch import receiver

OPERATORS_GROUP = "Operators"
OPERATIONS_GROUP = "Operations"
QA_GROUP = "QA"
ASSESSORS_GROUP = "Assessors"
PRODUCT_GROUP = "Product"

SIGN_OFF = "audit.sign_off"  # a sign-off on any subject
SIGN_OFF_RELEASE = "audit.sign_off_release"  # a sign-off on a release or a pilot
# Approving a configuration version (named, not imported: audit imports no app).
REVIEW_VERSION = "routing.review_configversion"
# The backlog a pilot produces: reviewers record findings and their follow-ups.
BACKLOG = ("audit.add_finding", "audit.change_finding", "audit.add_followup",
           "audit.change_followup")  # fmt: skip
BACKLOG_PERMISSIONS = tuple(name.split(".")[1] for name in BACKLOG)

READ_APPS = ("providers", "routing", "llmcaller", "audit", "oauth2_provider")
CONFIGURATION = (
    "providers.provider", "providers.model", "routing.capabilityscore",
    "routing.taskpreference", "routing.fallbackchain", "routing.fallbackstep",
    "routing.faultrule", "llmcaller.client", "audit.pilot", "audit.pilotcontact",
    "audit.checklistitem",
)  # fmt: skip


@dataclass(frozen=True)
class Role:
    name: str
    manages: tuple[str, ...] = ()  # "app_label.model": add, change and delete
    grants: tuple[str, ...] = ()  # "app_label.codename"


ROLES = (
    Role(
        OPERATORS_GROUP,
        manages=CONFIGURATION,
        grants=(
            "llmcaller.change_clienttoken",
            "llmcaller.issue_token",
            "providers.probe_provider",
            "providers.discover_models",
            "providers.send_test_prompt",
            "audit.run_uat",
            "routing.add_configversion",  # publish the working copy
            "routing.change_configversion",  # re-activate an approved version
        ),
    ),  # fmt: skip
    Role(OPERATIONS_GROUP, grants=(SIGN_OFF, REVIEW_VERSION, "providers.probe_provider")),
    Role(QA_GROUP, grants=(SIGN_OFF, REVIEW_VERSION, *BACKLOG)),
    Role(ASSESSORS_GROUP, grants=(SIGN_OFF, REVIEW_VERSION, *BACKLOG)),
    Role(PRODUCT_GROUP, grants=(SIGN_OFF_RELEASE,)),
)


def ensure_roles(apps: Apps, *, strict: bool = True) -> dict[str, object]:
    """Create every role's group with exactly its permissions; return them by name.
    A migration passes `strict=False`: a permission of a model a later migration
    adds is skipped then, and granted by the run after the last migration."""
    _create_missing_permissions(apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    groups = {}
    for role in ROLES:
        wanted = permission_model.objects.filter(_permissions_of(role))
        missing = set(role.grants) - {
            f"{p.content_type.app_label}.{p.codename}"
            for p in wanted.select_related("content_type")
        }
        if missing and strict:
            raise LookupError(f"role {role.name} names unknown permissions: {sorted(missing)}")
        group, _ = group_model.objects.get_or_create(name=role.name)
        group.permissions.set(wanted)
        groups[role.name] = group
    return groups


def _permissions_of(role: Role) -> Q:
    query = Q(content_type__app_label__in=READ_APPS, codename__startswith="view_")
    for label in role.manages:
        app_label, model = label.split(".")
        query |= Q(
            content_type__app_label=app_label,
            codename__in=[f"{action}_{model}" for action in ("add", "change", "delete")],
        )
    for grant in role.grants:
        app_label, codename = grant.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def _create_missing_permissions(apps: Apps) -> None:
    # Permissions are normally made after all migrations (post_migrate); a data
    # migration that grants them has to make them first.
    for app_config in apps.get_app_configs():
        if app_config.label not in READ_APPS:
            continue
        # The migration's app stubs have no models module; create_permissions
        # skips such apps unless told otherwise.
        loaded = getattr(app_config, "models_module", None)
        app_config.models_module = loaded or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = loaded


@receiver(post_migrate)
def _sync_roles(sender: object, apps: Apps = global_apps, **kwargs: object) -> None:
    if getattr(sender, "label", None) == "audit":
        ensure_roles(apps)


def reviewer_role(user: object) -> str:
    """The role a reviewer holds now, stored with their sign-off: their groups,
    else superuser or staff."""
    groups = sorted(user.groups.values_list("name", flat=True))
    if groups:
        return ", ".join(groups)
    return "superuser" if user.is_superuser else "staff"
