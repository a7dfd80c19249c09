"""System checks of the audit app, by id."""

from __future__ import annotations

from audit.checks import check_trail_keys


def test_an_unkeyed_trail_is_warned_about(settings):
    settings.AUDIT_TRAIL_KEYS = ()

    assert [message.id for message in check_trail_keys(None)] == ["audit.W001"]


def test_a_keyed_trail_passes(settings):
    assert settings.AUDIT_TRAIL_KEYS  # the suite's key
    assert check_trail_keys(None) == []
