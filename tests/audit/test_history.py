"""Configuration history: admin saves and deletes are recorded, secrets masked."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import ConfigChange
from tests.providers.test_admin import VALID

pytestmark = pytest.mark.django_db


def test_adding_changing_and_deleting_a_provider_is_recorded(admin_client, admin_user):
    admin_client.post(reverse("admin:providers_provider_add"), VALID)
    provider_id = ConfigChange.objects.get().after["id"]
    change_url = reverse("admin:providers_provider_change", args=[provider_id])
    admin_client.post(change_url, {**VALID, "timeout_seconds": "12"})
    delete_url = reverse("admin:providers_provider_delete", args=[provider_id])
    admin_client.post(delete_url, {"post": "yes"})

    added, changed, deleted = ConfigChange.objects.order_by("created_at")
    assert (added.action, changed.action, deleted.action) == ("add", "change", "delete")
    assert {c.actor_name for c in (added, changed, deleted)} == {admin_user.username}
    assert added.object_repr == "provider: lms-gpu"
    assert (changed.before["timeout_seconds"], changed.after["timeout_seconds"]) == (30.0, 12.0)
    assert changed.after["credential_env"] == ""  # where a secret lives is not masked
    assert deleted.after is None and deleted.before["key"] == "lms-gpu"
