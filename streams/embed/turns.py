"""Whose turn it is at the model: the urgent lane first, the bulk lane never starved.

Both lanes share one model on the same cores. A plain lock is not fair: the thread that
releases it usually takes it again, so an app event could wait for a whole backfill.
Here a bulk slice waits while an urgent call waits or runs, and after ``max_streak``
urgent turns in a row a waiting bulk slice goes next (the fairness bound).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    def __init__(self, max_streak: int = 4) -> None:
        self.max_streak = max_streak
        self._cv = threading.Condition()
        self._busy = False
        self._urgent_waiting = self._bulk_waiting = self._streak = 0

    @contextmanager
    def turn(self, urgent: bool) -> Iterator[None]:
        with self._cv:
            if urgent:
                self._urgent_waiting += 1
            else:
                self._bulk_waiting += 1
            while not self._may_go(urgent):
                self._cv.wait()
            self._busy = True
            if urgent:
                self._urgent_waiting -= 1
                self._streak += 1
            else:
                self._bulk_waiting -= 1
                self._streak = 0
        try:
            yield
        finally:
            with self._cv:
                self._busy = False
                self._cv.notify_all()

    def _may_go(self, urgent: bool) -> bool:
        if self._busy:
            return False
        bulk_due = self._bulk_waiting > 0 and self._streak >= self.max_streak
        return not bulk_due if urgent else self._urgent_waiting == 0 or bulk_due
