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
from collections.abc import Awaitable, Callable, Hashable
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


SMALL_WORK = 2.0  # a record this light (an edit, a delete) may join a batch ahead of its turn


@dataclass(frozen=True)
class _Pending(Generic[T]):
    item: T
    cost: float
    key: Hashable  # records of one key keep their order; None: one key of its own
    at: float


@dataclass
class Gather(Generic[T]):
    """The records gathered for the next batch; bounds are checked before a record is admitted.

    With ``read_ahead`` (in records and in work), the lane holds more than one batch, and a
    batch takes, besides the oldest record, light records from further back (an edited or
    deleted document behind a backfill): up to a quarter of the work bound of them. Records of
    one key are never reordered: a record waits while an older one of its key does.
    """

    max_events: int
    max_work: float
    within_s: float
    start_work: float | None = None  # the work bound after a quiet spell; None: always max_work
    read_ahead: float = 0.0
    pending: list[_Pending[T]] = field(default_factory=list)
    load: float = 0.0
    limit: float = field(init=False)  # the work bound of the batch being gathered

    def __post_init__(self) -> None:
        self.limit = self._start()

    def _start(self) -> float:
        return self.max_work if self.start_work is None else min(self.start_work, self.max_work)

    @property
    def first_at(self) -> float:
        return self.pending[0].at if self.pending else 0.0

    def full(self) -> bool:
        """A whole batch is waiting: it is due now."""
        return len(self.pending) >= self.max_events or (bool(self.pending) and self.load >= self.limit)

    def room(self) -> bool:
        """Whether another record may be admitted (else the feeder waits: backpressure to Kafka)."""
        if not self.read_ahead:
            return not self.full()
        return len(self.pending) < self.max_events + self.read_ahead and self.load < self.limit + self.read_ahead

    def add(self, item: T, cost: float, now: float, key: Hashable = None) -> None:
        self.pending.append(_Pending(item, cost, key, now))
        self.load += cost

    def due(self, now: float) -> bool:
        return bool(self.pending) and (self.full() or now - self.first_at >= self.within_s)

    def release(self) -> list[T]:
        """Every record gathered and not yet taken, in arrival order; the gather is empty after."""
        out, self.pending, self.load = [p.item for p in self.pending], [], 0.0
        return out

    def take(self, quiet: bool = False) -> list[T]:
        """The batch; ``quiet``: the processor sat idle until it was due (the next starts small again).

        Otherwise a batch that filled its bound means a backlog, and the next may carry twice the
        work. Only idleness resets the bound: near saturation some batches fall short of it, and
        halving them then would add batches exactly when there is no time for them.
        """
        batch, rest = self._split()
        load = sum(p.cost for p in batch)
        if quiet:
            self.limit = self._start()
        elif len(batch) >= self.max_events or load >= self.limit:
            self.limit = min(self.max_work, self.limit * 2)
        self.pending, self.load = rest, (self.load - load if rest else 0.0)  # no float residue when empty
        return [p.item for p in batch]

    def _split(self) -> tuple[list[_Pending[T]], list[_Pending[T]]]:
        """The oldest record, then in order every record with room left before it (the last may pass
        the bound), and light ones within a quarter of the bound more; never one whose key waits."""
        batch: list[_Pending[T]] = []
        rest: list[_Pending[T]] = []
        waiting: set[Hashable] = set()
        load = extra = 0.0
        for p in self.pending:
            room = len(batch) < self.max_events and (load < self.limit or not batch)
            light = (self.read_ahead > 0 and len(batch) < self.max_events and p.cost <= SMALL_WORK
                     and extra + p.cost <= max(1.0, self.limit / 4))
            if p.key not in waiting and (room or light) and (self.read_ahead or not rest):
                extra += 0.0 if room else p.cost
                load += p.cost
                batch.append(p)
            else:
                rest.append(p)
                waiting.add(p.key)
        return batch, rest


class Lane(Generic[T]):
    """Feeds :class:`Gather` from the stream and runs ``process`` on one batch at a time, in order."""

    def __init__(self, gather: Gather[T], process: Callable[[list[T]], Awaitable[None]]) -> None:
        self.gather, self.process = gather, process
        self._changed = asyncio.Event()  # a record arrived, or a batch was taken
        self._task: asyncio.Task[None] | None = None

    async def put(self, item: T, cost: float, key: Hashable = None) -> None:
        """Admit one record; waits while the gather has no room (backpressure to Kafka)."""
        self._start()
        while not self.gather.room():
            self._raise_if_failed()
            self._changed.clear()
            await self._changed.wait()
        self.gather.add(item, cost, time.monotonic(), key)
        self._changed.set()

    def release(self) -> list[T]:
        """Give back what was read ahead and not yet taken (the batch being processed stays)."""
        out = self.gather.release()
        self._changed.set()
        return out

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
            wait = self.gather.first_at + self.gather.within_s - now if self.gather.pending else None
            try:
                await asyncio.wait_for(self._changed.wait(), wait)
            except TimeoutError:
                pass
