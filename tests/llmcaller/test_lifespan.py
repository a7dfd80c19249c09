"""The worker's lifespan: what it sets up for the process while it serves."""

from __future__ import annotations

import gc

from tests.gateway import running_gateway


def test_a_worker_runs_with_the_configured_collector_thresholds_and_hands_them_back(settings):
    settings.LLMCALLER_GC_THRESHOLDS = (1234, 5, 67)
    before = gc.get_threshold()

    with running_gateway():
        serving = gc.get_threshold()

    assert serving == (1234, 5, 67)
    assert gc.get_threshold() == before  # a server run inside another process hands them back
