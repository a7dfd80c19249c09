"""Configuration versions: publishing, the review gate, re-activation, immutability."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import IntegrityError, transaction

from audit.models import ConfigChange, SignOff
from audit.roles import QA_GROUP
from providers.models import Capability, HealthStatus
from routing.config_diff import diff_configs
from routing.config_export import canonical_json, export_config
from routing.models import ConfigVersion, ConfigVersionIsImmutable, FallbackStep, VersionStatus
from routing.snapshot import compile_snapshot
from routing.versions import (
    ReviewRefused,
    publish_working_copy,
    reactivate_version,
    review_version,
)
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.routing.factories import FallbackStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(settings) -> None:
    settings.LLMCALLER_CONFIG_REVIEW = "required"


@pytest.fixture
def qa_user() -> User:
    user = User.objects.create_user("quinn", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=QA_GROUP))
    return user


def _chain() -> FallbackStep:
    local = ProviderFactory(key="local")
    ModelFactory(provider=local, model_id="small")
    return FallbackStepFactory(
        chain__name="chat-safety", chain__is_default=True, model=ModelFactory(provider=local,
        model_id="big"),
    )  # fmt: skip


def _first_step(snapshot) -> str:
    return snapshot.chains["chat-safety"].steps[0].model_id


def _switch_step(step: FallbackStep, model_id: str) -> None:
    step.model = step.model.provider.models.get(model_id=model_id)
    step.save()


def test_by_default_a_change_publishes_and_activates_at_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        step = _chain()
    first = ConfigVersion.objects.get(is_active=True)
    with django_capture_on_commit_callbacks(execute=True):
        _switch_step(step, "small")

    active = ConfigVersion.objects.get(is_active=True)
    assert active.number == first.number + 1 and active.parent == first
    assert active.status == VersionStatus.PUBLISHED
    assert active.canonical == canonical_json(export_config())  # exactly as export_config writes
    assert "fallback chain chat-safety changed (step 1)" in active.summary
    snapshot = compile_snapshot()
    assert (snapshot.config_version, _first_step(snapshot)) == (active.number, "small")
    assert snapshot.config_hash == active.sha256


def test_with_review_required_an_edit_waits_until_someone_else_approves(
    review, qa_user, admin_user, django_capture_on_commit_callbacks
):
    step = _chain()
    assert _first_step(compile_snapshot()) == "big"  # version 1, the configuration it started with
    with django_capture_on_commit_callbacks(execute=True):
        _switch_step(step, "small")
    assert not ConfigVersion.objects.filter(status=VersionStatus.PENDING).exists()  # unpublished

    pending = publish_working_copy(author=admin_user.username, source="admin")
    assert pending.status == VersionStatus.PENDING and not pending.is_active
    assert _first_step(compile_snapshot()) == "big"  # still routed by the approved version

    with django_capture_on_commit_callbacks(execute=True):
        sign_off = review_version(version=pending, reviewer=qa_user, decision="approve",
                                  notes="Checked the diff.")  # fmt: skip

    pending.refresh_from_db()
    assert (pending.status, pending.is_active) == (VersionStatus.APPROVED, True)
    assert (sign_off.reviewer_name, sign_off.reviewer_role) == ("quinn", QA_GROUP)
    assert (sign_off.subject_kind, sign_off.subject_id) == ("config_version", str(pending.number))
    assert _first_step(compile_snapshot()) == "small"


def test_the_author_cannot_approve_their_own_version(review, admin_user):
    _chain()
    compile_snapshot()
    ProviderFactory(key="cloud")
    pending = publish_working_copy(author=admin_user.username, source="admin")

    with pytest.raises(ReviewRefused, match="someone other than its author must review it"):
        review_version(version=pending, reviewer=admin_user, decision="approve")
    pending.refresh_from_db()
    assert (pending.status, pending.is_active) == (VersionStatus.PENDING, False)
    assert not SignOff.objects.exists()


def test_a_user_without_the_review_permission_is_refused(review):
    _chain()
    compile_snapshot()
    ProviderFactory(key="cloud")
    pending = publish_working_copy(author="olivia", source="admin")
    clerk = User.objects.create_user("clerk", is_staff=True)

    with pytest.raises(ReviewRefused, match="may not review"):
        review_version(version=pending, reviewer=clerk, decision="approve")


@pytest.mark.parametrize(
    ("decision", "status"),
    [("reject", VersionStatus.REJECTED), ("request_changes", VersionStatus.CHANGES_REQUESTED)],
)
def test_reject_and_request_changes_are_recorded_with_notes(review, qa_user, decision, status):
    _chain()
    compile_snapshot()
    ProviderFactory(key="cloud")
    pending = publish_working_copy(author="olivia", source="admin")

    review_version(version=pending, reviewer=qa_user, decision=decision, notes="Not on Friday.",
                   evidence=("https://tickets.example/42",))  # fmt: skip

    pending.refresh_from_db()
    assert (pending.status, pending.is_active) == (status, False)
    sign_off = SignOff.objects.get()
    assert (sign_off.decision, sign_off.notes) == (decision, "Not on Friday.")
    assert sign_off.evidence == ["https://tickets.example/42"]
    with pytest.raises(ReviewRefused, match="only a version pending review"):
        review_version(version=pending, reviewer=qa_user, decision="approve")


def test_an_earlier_approved_version_is_reactivated_in_one_step_and_recorded(
    review, qa_user, django_capture_on_commit_callbacks
):
    step = _chain()
    compile_snapshot()
    _switch_step(step, "small")
    second = publish_working_copy(author="olivia", source="admin")
    review_version(version=second, reviewer=qa_user, decision="approve")
    _switch_step(step, "big")
    third = publish_working_copy(author="olivia", source="admin")
    review_version(version=third, reviewer=qa_user, decision="approve")
    assert _first_step(compile_snapshot()) == "big"

    with django_capture_on_commit_callbacks(execute=True):
        reactivate_version(version=second, actor="olivia", source="admin")

    snapshot = compile_snapshot()
    assert (snapshot.config_version, _first_step(snapshot)) == (second.number, "small")
    assert SignOff.objects.count() == 2  # no new approval was needed
    change = ConfigChange.objects.get(action="re-activate")
    assert (change.actor_name, change.before, change.after) == (
        "olivia", {"active_version": third.number}, {"active_version": second.number},
    )  # fmt: skip


def test_a_version_never_approved_cannot_be_reactivated(review, qa_user):
    _chain()
    compile_snapshot()
    ProviderFactory(key="cloud")
    rejected = publish_working_copy(author="olivia", source="admin")
    review_version(version=rejected, reviewer=qa_user, decision="reject", notes="No.")

    with pytest.raises(ReviewRefused, match="never approved"):
        reactivate_version(version=rejected, actor="olivia", source="admin")


def test_a_published_version_cannot_be_edited_or_deleted():
    _chain()
    version = publish_working_copy(author="olivia", source="admin")

    version.summary = "rewritten"
    with pytest.raises(ConfigVersionIsImmutable):
        version.save()
    with pytest.raises(ConfigVersionIsImmutable):
        ConfigVersion.objects.filter(pk=version.pk).update(canonical="{}")
    with pytest.raises(ConfigVersionIsImmutable):
        ConfigVersion.objects.all().delete()
    with pytest.raises(ConfigVersionIsImmutable):
        version.delete()


def test_the_database_allows_one_active_version_only():
    _chain()
    version = publish_working_copy(author="olivia", source="admin")
    ProviderFactory(key="cloud")
    other = publish_working_copy(author="olivia", source="admin")
    assert ConfigVersion.objects.filter(is_active=True).get() == other

    with pytest.raises(IntegrityError), transaction.atomic():
        ConfigVersion.objects.filter(pk=version.pk).update(is_active=True)


def test_a_probe_result_neither_publishes_nor_changes_the_version(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        _chain()
    before = ConfigVersion.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        provider = ProviderFactory(key="local")
        provider.health_status = HealthStatus.FAILED
        provider.save(update_fields=["health_status"])

    assert ConfigVersion.objects.count() == before
    snapshot = compile_snapshot()
    assert snapshot.providers["local"].health == HealthStatus.FAILED  # overlaid at once
    assert snapshot.config_version == ConfigVersion.objects.get(is_active=True).number


def test_an_import_makes_a_pending_version_when_review_is_required(review, tmp_path):
    _chain()
    compile_snapshot()
    data = export_config()
    data["providers"][0]["timeout_seconds"] = 7.0
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))

    out = StringIO()
    call_command("import_config", str(path), stdout=out)

    pending = ConfigVersion.objects.get(status=VersionStatus.PENDING)
    assert (pending.source, pending.author) == ("import", "import_config command")
    assert "provider local changed (timeout_seconds)" in pending.summary
    assert f"Published as {pending} (pending review)." in out.getvalue()
    assert compile_snapshot().providers["local"].timeout == 2.0  # not active until approved


def test_diff_config_prints_the_changed_step_field_by_field(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        step = _chain()
    old = ConfigVersion.objects.get(is_active=True).number
    with django_capture_on_commit_callbacks(execute=True):
        _switch_step(step, "small")
    new = ConfigVersion.objects.get(is_active=True).number

    out = StringIO()
    call_command("diff_config", str(old), str(new), stdout=out)

    assert out.getvalue().splitlines() == [
        "~ fallback chain chat-safety changed",
        "    step 1: 'local/big (moves on: temporary, rate limit, timeout)' -> "
        "'local/small (moves on: temporary, rate limit, timeout)'",
    ]


def test_every_capability_of_the_export_survives_a_version_round_trip():
    _chain()
    version = publish_working_copy(author="olivia", source="admin")
    assert json.loads(version.canonical) == export_config()
    assert Capability.CHAT in compile_snapshot().ranked


def test_export_then_import_round_trips_byte_for_byte_and_publishes_nothing(tmp_path):
    _chain()
    compile_snapshot()
    before = StringIO()
    call_command("export_config", stdout=before)
    path = tmp_path / "config.json"
    path.write_text(before.getvalue())
    versions = ConfigVersion.objects.count()

    call_command("import_config", str(path), stdout=StringIO())
    after = StringIO()
    call_command("export_config", stdout=after)

    assert after.getvalue() == before.getvalue() == ConfigVersion.objects.get().canonical
    assert ConfigVersion.objects.count() == versions


def test_a_client_limit_change_is_part_of_the_next_version_and_its_diff(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        client = ClientFactory(tool_id="billing", daily_token_budget=1000)
    with django_capture_on_commit_callbacks(execute=True):
        client.daily_token_budget = 5000
        client.save()

    active = ConfigVersion.objects.get(is_active=True)
    assert active.summary == "client billing changed (daily_token_budget)"
    change = diff_configs(json.loads(active.parent.canonical), json.loads(active.canonical))
    assert [(f.field, f.before, f.after) for f in change[0].fields] == [
        ("daily_token_budget", 1000, 5000)
    ]


def test_without_review_a_reactivation_survives_writes_that_change_nothing(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        step = _chain()
    first = ConfigVersion.objects.get(is_active=True)
    with django_capture_on_commit_callbacks(execute=True):
        _switch_step(step, "small")
    with django_capture_on_commit_callbacks(execute=True):
        reactivate_version(version=first, actor="olivia", source="admin")
    with django_capture_on_commit_callbacks(execute=True):
        step.refresh_from_db()
        step.save()  # as discovery re-saving unchanged rows does

    assert ConfigVersion.objects.get(is_active=True) == first
    assert _first_step(compile_snapshot()) == "big"
