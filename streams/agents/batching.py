"""Adaptive batches, bounded by work: a lane gathers its next batch while the last one is written.

faust's ``take_events`` stops filling its buffer while a batch is processed, and then
waits ``within`` again, so a busy lane spends part of each cycle idle and its batches
never grow with the backlog. Here the feeder keeps pulling records while the processor
works; a batch is handed over as soon as the processor is free and either a limit is
reached or the oldest record waited ``within``. So batches are small when the stream is
quiet (fresh) and large under a backlog (fast), and never exceed their bounds:

- ``max_events`` records (one decode each: what a sensor reading in state mode costs);
- ``max_work``: estimated texts to embed (:func:`work`), so that a backfill is written
  and committed article by article, not in one batch of thousands of chunks. After a quiet
  spell (the processor sat idle) the bound starts at ``start_work`` and doubles with every batch
  that fills it (as TCP's slow start): the first article of a backfill is written alone, within seconds, and the batches
  behind it grow to ``max_work`` while the backlog lasts.

A batch always holds at least one record, however large.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

CHARS_PER_TEXT = 800  # about one 200-token chunk of prose; a guess from the raw size, before decoding


def work(topic_kind: str, size: int, readings_are_objects: bool) -> float:
    """Estimated texts to embed for one record of ``size`` bytes (pure; nothing is decoded)."""
    if topic_kind == "document":
        return max(1.0, size / CHARS_PER_TEXT)
    if topic_kind == "sensor" and not readings_are_objects:
        return 0.0  # a cached description at most: readings only move their series' current state
    return 1.0


@dataclass
class Gather(Generic[T]):
    """The batch being gathered; bounds are checked before a record is admitted."""

    max_events: int
    max_work: float
    within_s: float
    start_work: float | None = None  # the work bound after a quiet spell; None: always max_work
    items: list[T] = field(default_factory=list)
    load: float = 0.0
    first_at: float = 0.0
    limit: float = field(init=False)  # the work bound of the batch being gathered

    def __post_init__(self) -> None:
        self.limit = self._start()

    def _start(self) -> float:
        return self.max_work if self.start_work is None else min(self.start_work, self.max_work)

    def full(self) -> bool:
        return len(self.items) >= self.max_events or (bool(self.items) and self.load >= self.limit)

    def add(self, item: T, cost: float, now: float) -> None:
        if not self.items:
            self.first_at = now
        self.items.append(item)
        self.load += cost

    def due(self, now: float) -> bool:
        return bool(self.items) and (self.full() or now - self.first_at >= self.within_s)

    def take(self, quiet: bool = False) -> list[T]:
        """The batch; ``quiet``: the processor sat idle until it was due (the next starts small again).

        Otherwise a batch that filled its bound means a backlog, and the next may carry twice the
        work. Only idleness resets the bound: near saturation some batches fall short of it, and
        halving them then would add batches exactly when there is no time for them.
        """
        if quiet:
            self.limit = self._start()
        elif self.full():
            self.limit = min(self.max_work, self.limit * 2)
        out, self.items, self.load = self.items, [], 0.0
        return out


class Lane(Generic[T]):
    """Feeds :class:`Gather` from the stream and runs ``process`` on one batch at a time, in order."""

    def __init__(self, gather: Gather[T], process: Callable[[list[T]], Awaitable[None]]) -> None:
        self.gather, self.process = gather, process
        self._changed = asyncio.Event()  # a record arrived, or a batch was taken
        self._task: asyncio.Task[None] | None = None

    async def put(self, item: T, cost: float) -> None:
        """Admit one record; waits while the batch being gathered is full (backpressure to Kafka)."""
        self._start()
        while self.gather.full():
            self._raise_if_failed()
            self._changed.clear()
            await self._changed.wait()
        self.gather.add(item, cost, time.monotonic())
        self._changed.set()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()  # a processor that died must stop the agent, not hide behind it

    async def _run(self) -> None:
        idle = True  # nothing processed yet: the stream starts quiet
        while True:
            now = time.monotonic()
            if self.gather.due(now):
                batch = self.gather.take(quiet=idle)
                self._changed.set()
                await self.process(batch)
                idle = False
                continue
            idle = True
            self._changed.clear()
            wait = self.gather.first_at + self.gather.within_s - now if self.gather.items else None
            try:
                await asyncio.wait_for(self._changed.wait(), wait)
            except TimeoutError:
                pass
