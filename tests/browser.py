"""Playwright driving Debian's chromium, or a visible skip where it cannot run.

CI sets LLMCALLER_REQUIRE_BROWSER=1 so a missing browser fails instead of
skipping: the admin pages that matter are always checked there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

TIMEOUT_MS = 15_000  # a busy CI machine may take seconds for a page
CHROMIUM = Path(os.environ.get("LLMCALLER_CHROMIUM", "/usr/bin/chromium"))
_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("LLMCALLER_REQUIRE_BROWSER"):
        pytest.fail(f"Browser tests are required here but cannot run: {reason}")
    pytest.skip(f"Browser test skipped: {reason} (CI installs it and runs these)")


@contextmanager
def chromium_page() -> Iterator[object]:
    try:
        from playwright.sync_api import expect as web_first
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    # Playwright's sync API runs its own event loop; Django must allow ORM calls
    # from the test body meanwhile.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=_FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            web_first.set_options(timeout=TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def expect(target):
    """Playwright's web-first assertion on a locator or page: it retries until
    the page shows what is expected, so it never reads a page that is still
    arriving (a bare `inner_text` after a click can read half an answer)."""
    from playwright.sync_api import expect as web_first

    return web_first(target)


def sign_in(page, gateway: str, username: str, password: str) -> None:
    """Sign in to the admin at `gateway` through its login form."""
    page.goto(f"{gateway}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
