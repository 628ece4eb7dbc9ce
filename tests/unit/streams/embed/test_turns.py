"""Turns at the model: urgent first, bulk never starved, one caller at a time."""

from __future__ import annotations

import threading
import time

import pytest

from streams.embed.turns import Turns

pytestmark = pytest.mark.unit


def _run(turns: Turns, urgent: bool, n: int, log: list[str], hold_s: float, inside: list[int]) -> None:
    for _ in range(n):
        with turns.turn(urgent):
            inside.append(1)
            assert len(inside) == 1  # never two callers at the model
            log.append("u" if urgent else "b")
            time.sleep(hold_s)
            inside.pop()


def test_an_urgent_call_goes_before_the_next_bulk_slice() -> None:
    turns, log, inside = Turns(max_streak=4), [], []  # type: ignore[var-annotated]
    bulk = threading.Thread(target=_run, args=(turns, False, 30, log, 0.01, inside))
    bulk.start()
    time.sleep(0.05)
    waited = []
    for _ in range(3):
        t0 = time.monotonic()
        _run(turns, True, 1, log, 0.0, inside)
        waited.append(time.monotonic() - t0)
        time.sleep(0.03)
    bulk.join()
    assert log.count("b") == 30 and log.count("u") == 3
    assert max(waited) < 0.05  # at most the one bulk slice that was running (10 ms), not the backfill


def test_a_waiting_bulk_slice_goes_after_max_streak_urgent_turns() -> None:
    turns, log, inside = Turns(max_streak=3), [], []  # type: ignore[var-annotated]
    urgent = [threading.Thread(target=_run, args=(turns, True, 10, log, 0.005, inside)) for _ in range(2)]
    bulk = threading.Thread(target=_run, args=(turns, False, 5, log, 0.005, inside))
    for t in urgent:
        t.start()
    time.sleep(0.01)
    bulk.start()
    for t in [*urgent, bulk]:
        t.join()
    first_b = log.index("b")
    runs = "".join(log[first_b:]).split("b")
    assert all(len(r) <= 3 for r in runs[1:-1])  # bulk waits for at most 3 urgent turns
