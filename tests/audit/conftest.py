"""Audit test fixtures: release the writer thread a test's event loop started."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from audit.services import flush_pending


@pytest.fixture
async def audit_loop() -> AsyncIterator[None]:
    """For async tests that record calls: flush and close the loop's batcher, so
    its database connection never outlives the test database."""
    yield
    await flush_pending()
