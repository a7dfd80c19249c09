"""record_config_change: who changed what, with every secret-looking value masked."""

from __future__ import annotations

import pytest

from audit.models import ConfigChange
from audit.services import MASK, record_config_change

pytestmark = pytest.mark.django_db


def test_a_change_is_stored_with_secrets_masked():
    before = {"name": "OpenAI", "api_key": "sk-live-1", "headers": [{"X-Token": "t-1"}]}
    after = {"name": "OpenAI EU", "api_key": "sk-live-2", "password": "", "timeout": 30}

    record_config_change(
        actor="alice", request_id="req-9", obj_repr="openai", action="change",
        before=before, after=after,
    )  # fmt: skip

    change = ConfigChange.objects.get()
    assert change.before == {"name": "OpenAI", "api_key": MASK, "headers": [{"X-Token": MASK}]}
    assert change.after == {"name": "OpenAI EU", "api_key": MASK, "password": "", "timeout": 30}
    assert (change.actor_name, change.request_id, change.action) == ("alice", "req-9", "change")
    assert "sk-live" not in str(change.before) + str(change.after)


def test_identifiers_and_where_a_secret_lives_stay_readable():
    after = {"key": "openai", "credential_env": "OPENAI_API_KEY", "credential": "sk-live-3"}

    record_config_change(
        actor="alice", request_id="req-10", obj_repr="openai", action="add",
        before=None, after=after,
    )  # fmt: skip

    assert ConfigChange.objects.get().after == {
        "key": "openai", "credential_env": "OPENAI_API_KEY", "credential": MASK,
    }  # fmt: skip
