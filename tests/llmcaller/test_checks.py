"""System checks of the llmcaller app, by ID."""

from __future__ import annotations

from llmcaller.checks import check_token_pepper


def test_the_embedded_pepper_is_a_loud_warning(settings):
    settings.LLMCALLER_TOKEN_PEPPER = settings.EMBEDDED_TOKEN_PEPPER

    assert [m.id for m in check_token_pepper(None)] == ["llmcaller.W001"]


def test_a_pepper_set_but_empty_or_short_is_an_error(settings):
    for pepper in ("", "short"):
        settings.LLMCALLER_TOKEN_PEPPER = pepper
        assert [m.id for m in check_token_pepper(None)] == ["llmcaller.E001"]


def test_a_long_pepper_passes(settings):
    settings.LLMCALLER_TOKEN_PEPPER = "x" * 48

    assert check_token_pepper(None) == []
