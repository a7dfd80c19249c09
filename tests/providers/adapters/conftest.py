from collections.abc import AsyncIterator

import pytest

from tests.providers.adapters.support import open_clients


@pytest.fixture(autouse=True)
async def close_upstream_clients() -> AsyncIterator[None]:
    """The upstream clients a test's adapters opened, closed in its own event loop."""
    yield
    while open_clients:
        await open_clients.pop().aclose()
