"""Configuration versions: publish the working copy, review it, activate it.

The working copy is the live tables the admin edits. `publish_working_copy`
turns it into the next immutable `ConfigVersion` (the canonical export and its
sha256). By default (LLMCALLER_CONFIG_REVIEW=auto) a new version is active at
once. With review required it waits: `review_version` records the reviewer's
sign-off and, on approval by someone other than the author with the review
permission, activates it. `reactivate_version` brings back any earlier version
that was approved (or, without review, published) in one step. Every
activation is recorded as a configuration change and bumps the generation, so
every worker swaps its snapshot within a second. Versions join the governance
trail (`audit.trail`) as they are published and reviewed, so `verify_audit`
names one edited in the database.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import trail
from audit.models import ChangeSource, ConfigChange, SignOff, SignOffDecision
from audit.roles import reviewer_role
from audit.services import record_config_change, record_sign_off
from routing.config_diff import diff_configs, summarize
from routing.config_export import canonical_json, export_config
from routing.generation import bump_generation
from routing.models import ConfigVersion, VersionStatus

SUBJECT_KIND = "config_version"
# What the governance trail keeps of a version: everything but which one is
# active (activations are configuration changes, chained on their own). The
# status is there, since it decides what may be re-activated without review.
TRAIL_FIELDS = (
    "number", "canonical", "sha256", "author", "source", "created_at", "summary", "parent",
    "status",
)  # fmt: skip
_OUTCOMES = {
    SignOffDecision.APPROVE: VersionStatus.APPROVED,
    SignOffDecision.REQUEST_CHANGES: VersionStatus.CHANGES_REQUESTED,
    SignOffDecision.REJECT: VersionStatus.REJECTED,
}
# Configuration writes whose actor becomes the author of an automatic version.
_EDITS = ("add", "change", "delete", "import", "discover", "retire", "issue token", "revoke token")


class ReviewRefused(Exception):
    """A review or activation that the rules do not allow; the message says why."""


def review_required() -> bool:
    return settings.LLMCALLER_CONFIG_REVIEW == "required"


def active_version() -> ConfigVersion | None:
    return ConfigVersion.objects.filter(is_active=True).first()


def newest_version() -> ConfigVersion | None:
    return ConfigVersion.objects.order_by("-number").first()


def reusable_statuses() -> tuple[str, ...]:
    """Statuses of versions that may be (re-)activated without a new review."""
    if review_required():
        return (VersionStatus.APPROVED,)
    return (VersionStatus.APPROVED, VersionStatus.PUBLISHED)


def working_copy() -> tuple[dict[str, Any], str, str]:
    """The live configuration: its export, canonical text and sha256."""
    data = export_config()
    text = canonical_json(data)
    return data, text, hashlib.sha256(text.encode()).hexdigest()


def has_unpublished_changes() -> bool:
    """True when the working copy is neither the active version nor pending review."""
    return not _already_published(working_copy()[2])


def _already_published(digest: str) -> bool:
    active = active_version()
    pending = ConfigVersion.objects.filter(status=VersionStatus.PENDING, sha256=digest)
    return (active is not None and active.sha256 == digest) or pending.exists()


def publish_working_copy(
    *, author: str, source: str, summary: str = "", without_review: bool = False
) -> ConfigVersion | None:
    """Publish the working copy as the next version, or None if it is the active
    one or pending review already. Active at once unless review is required."""
    data, text, digest = working_copy()
    with transaction.atomic():
        newest = ConfigVersion.objects.select_for_update().order_by("-number").first()
        active = active_version()
        if _already_published(digest):
            return None
        parent = active or newest
        if not summary and parent is not None:
            summary = summarize(diff_configs(json.loads(parent.canonical), data))
        version = ConfigVersion(
            number=(newest.number + 1) if newest else 1, canonical=text, sha256=digest,
            author=author, source=source, created_at=timezone.now(),
            summary=(summary or "initial configuration")[:255], parent=parent,
            status=VersionStatus.PENDING
            if review_required() and not without_review
            else VersionStatus.PUBLISHED,
        )  # fmt: skip
        version.full_clean(validate_unique=False)
        version.save()
        trail.append(SUBJECT_KIND, version)
        _record(version, author, source, "publish", None, {"status": version.status})
        if version.status == VersionStatus.PUBLISHED:
            activate_version(version=version, actor=author, source=source, action="activate")
    return version


def publish_automatically() -> ConfigVersion | None:
    """After a configuration write outside the admin (discovery, commands, code):
    without review, publish it at once, authored by whoever made the last edit."""
    if review_required():
        return None
    newest = newest_version()
    edits = ConfigChange.objects.filter(action__in=_EDITS)
    if newest is not None:
        edits = edits.filter(created_at__gte=newest.created_at)
    last = edits.order_by("-created_at", "-id").first()
    author, source = (last.actor_name, last.source) if last else ("system", ChangeSource.SYSTEM)
    if newest is not None and working_copy()[2] == newest.sha256:
        return None  # nothing new since the last publish (a re-activation stays in force)
    try:
        return publish_working_copy(author=author, source=source or ChangeSource.SYSTEM)
    except IntegrityError:
        return None  # another worker published the same change first


def routing_version() -> ConfigVersion | None:
    """The active version; a gateway with no version at all publishes its
    working copy as version 1 and routes by it (in either mode)."""
    version = active_version()
    if version is not None or newest_version() is not None:
        return version
    try:
        publish_working_copy(author="system", source=ChangeSource.SYSTEM, without_review=True)
    except IntegrityError:
        pass  # another worker bootstrapped at the same moment
    return active_version()


def activate_version(
    *, version: ConfigVersion, actor: str, source: str, action: str = "activate"
) -> None:
    with transaction.atomic():
        current = ConfigVersion.objects.select_for_update().filter(is_active=True).first()
        if current is not None and current.pk == version.pk:
            return
        if current is not None:
            current.is_active = False
            current.save(update_fields=["is_active"])
        version.is_active, version.activated_at = True, timezone.now()
        version.save(update_fields=["is_active", "activated_at"])
        before = {"active_version": current.number if current else None}
        _record(version, actor, source, action, before, {"active_version": version.number})
        transaction.on_commit(bump_generation)


def review_version(
    *,
    version: ConfigVersion,
    reviewer: AbstractBaseUser,
    decision: str,
    notes: str = "",
    evidence: tuple[str, ...] = (),
) -> SignOff:
    """Record a reviewer's decision on a pending version; approval activates it."""
    name = reviewer.get_username()
    version.refresh_from_db(fields=["status", "is_active"])
    if version.status != VersionStatus.PENDING:
        raise ReviewRefused(
            f"Version {version.number} is {version.get_status_display()}; "
            "only a version pending review can be reviewed."
        )
    if name == version.author:
        raise ReviewRefused(
            f"You published version {version.number}: someone other than its author must review it."
        )
    if not reviewer.has_perm("routing.review_configversion"):
        raise ReviewRefused("Your role may not review configuration versions.")
    with transaction.atomic():
        sign_off = record_sign_off(
            subject_kind=SUBJECT_KIND, subject_id=str(version.number),
            subject_label=f"configuration version {version.number} ({version.sha256[:12]})",
            decision=decision, reviewer=name, reviewer_role=reviewer_role(reviewer),
            notes=notes, evidence=evidence,
        )  # fmt: skip
        version.status = _OUTCOMES[decision]
        version.save(update_fields=["status"])
        trail.append(SUBJECT_KIND, version)
        _record(version, name, ChangeSource.ADMIN, f"review: {decision}", None, {"notes": notes})
        if decision == SignOffDecision.APPROVE:
            activate_version(version=version, actor=name, source=ChangeSource.ADMIN)
    return sign_off


def reactivate_version(*, version: ConfigVersion, actor: str, source: str) -> None:
    """Make an earlier approved version active again; it needs no new review."""
    version.refresh_from_db(fields=["status", "is_active"])
    if version.is_active:
        raise ReviewRefused(f"Version {version.number} is already active.")
    if version.status not in reusable_statuses():
        raise ReviewRefused(
            f"Version {version.number} was never approved "
            f"({version.get_status_display()}); it cannot be re-activated."
        )
    activate_version(version=version, actor=actor, source=source, action="re-activate")


def sign_offs_of(version: ConfigVersion) -> list[SignOff]:
    return list(SignOff.objects.filter(subject_kind=SUBJECT_KIND, subject_id=str(version.number)))


def _record(
    version: ConfigVersion, actor: str, source: str, action: str, before: Any, after: Any
) -> None:
    record_config_change(
        actor=actor, request_id="", obj_repr=f"configuration version {version.number}",
        action=action, before=before, after=after, source=source,
    )  # fmt: skip
