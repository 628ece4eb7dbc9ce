"""A small chaos run in the suite: every fault once, then the index equals the oracle's."""

from __future__ import annotations

import pytest

from streams.harness.chaos import run
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_a_small_chaos_run_leaves_nothing_missing_stale_orphan_or_duplicate(settings: Settings) -> None:
    f = run(settings, 1500, kills=3, outage_s=8, rate=150)
    assert f["expected_objects"] > 1000
    assert (f["missing"], f["stale"], f["orphan"], f["duplicate"]) == (0, 0, 0, 0), f
    # With one worker a killed partition waits for the restart (process, model, rejoin); on a loaded 2-core box
    # that took 50 to 70 s here. Longer means a partition is stuck, not slow.
    assert f["longest_stall_s"] < 150, f
