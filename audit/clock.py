"""The wall clock that windows are counted by: rate-limit minutes, budget days and months.

Code that decides which window a moment falls in reads the time here, never
`time.time()` or `timezone.now()` directly, so a test can set the clock
(`tests.conftest.clock`) instead of hoping not to straddle a minute or a UTC
midnight. It lives in `audit` because every app may import audit and audit
imports none of them.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime


def time() -> float:
    """Seconds since the epoch (the one function tests replace)."""
    return _time.time()


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.fromtimestamp(time(), tz=UTC)
