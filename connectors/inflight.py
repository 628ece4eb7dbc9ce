"""In-flight accounting for the producer: a bounded, first-come-first-served count of records
that await Kafka's confirmation, shared by threads and event loops.

Semantics: ``Slots(limit)`` hands out at most ``limit`` slots. A freed slot goes to the oldest
waiter, and while anyone waits newcomers queue behind, so records reach librdkafka in the order
their sends began (per-key order). A cancelled waiter that was granted a slot passes it on; a
waiter whose event loop closed is skipped. No I/O: :mod:`connectors.producer` takes a slot
before handing a record over and gives it back on the record's delivery report.

Example::

    slots = Slots(10_000)
    await slots.take()      # or slots.try_take() / slots.take_sync(timeout)
    ...
    slots.give()
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Slots", "resolve"]


@dataclass(eq=False)
class _Waiter:
    """One queued taker; ``wake`` is called (under no lock) once it was granted a slot."""

    wake: Callable[[], object]
    granted: bool = False


@dataclass
class Slots:
    """A first-come-first-served counting semaphore usable from threads and event loops.

    A freed slot is handed to the oldest waiter; while any waiter is queued (granted or
    not) newcomers queue behind it, so records are produced in the order sends began.
    """

    limit: int
    used: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _queue: deque[_Waiter] = field(default_factory=deque)

    def try_take(self) -> bool:
        """Take a slot when one is free and nobody waits; never waits."""
        with self._lock:
            if self.used < self.limit and not self._queue:
                self.used += 1
                return True
            return False

    async def take(self) -> None:
        """Wait for a slot, in turn; a cancel while waiting leaves no slot taken."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        waiter = self._enqueue(lambda: loop.call_soon_threadsafe(resolve, ready, None))
        if waiter is None:
            return
        try:
            await ready
        except asyncio.CancelledError:
            if self._leave(waiter):  # granted just before the cancel: pass the slot on
                self.give()
            raise
        self._leave(waiter)

    def take_sync(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s from a thread; True when a slot is now the caller's."""
        ready = threading.Event()
        waiter = self._enqueue(ready.set)
        if waiter is None:
            return True
        ready.wait(timeout)
        return self._leave(waiter)

    def give(self) -> None:
        """Free one slot: hand it to the oldest waiter not yet granted, else count it free."""
        with self._lock:
            waiter = next((w for w in self._queue if not w.granted), None)
            if waiter is None:
                self.used -= 1
                return
            waiter.granted = True
        try:
            waiter.wake()
        except RuntimeError:  # its event loop is closed: nobody will use the slot, pass it on
            self._leave(waiter)
            self.give()

    def _enqueue(self, wake: Callable[[], object]) -> _Waiter | None:
        with self._lock:
            if self.used < self.limit and not self._queue:
                self.used += 1
                return None
            waiter = _Waiter(wake)
            self._queue.append(waiter)
            return waiter

    def _leave(self, waiter: _Waiter) -> bool:
        """Dequeue ``waiter``; True when it was granted a slot (which it now owns)."""
        with self._lock:
            if waiter in self._queue:
                self._queue.remove(waiter)
        return waiter.granted


def resolve(fut: asyncio.Future[Any], result: Any) -> None:
    """Settle ``fut`` with ``result`` (an exception is raised to its awaiter) unless it is settled already;
    run on the future's own loop (``call_soon_threadsafe``)."""
    if fut.done():
        return
    if isinstance(result, BaseException):
        fut.set_exception(result)
    else:
        fut.set_result(result)
