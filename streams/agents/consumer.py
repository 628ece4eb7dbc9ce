"""faust's Kafka consumer, without four tasks per message.

faust hands every fetched message to its topic's queue through ``wait_first(callback(message),
suspend_flow.wait())`` (``faust.transport.consumer.Consumer._drain_messages``), so that a
rebalance can interrupt a delivery that is blocked on a full queue. mode's ``wait_first`` wraps
each argument, and the consumer's stopped and crashed events, in a task, and then waits on all
four: about half of the worker's event-loop time when a sensor fleet streams thousands of
readings per second. Almost every delivery finishes without ever waiting, so :class:`Consumer`
runs the delivery first; only one that has to wait is raced against the others, as before.

It also commits by Headwater's rule, not faust's (:mod:`streams.agents.commit`): a partition's
committed offset never passes a delivered record that is not yet written or dead-lettered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Generator, Iterator
from typing import Any

import faust
from faust.transport.drivers import aiokafka
from faust.types import TP, Message
from mode.services import WaitArgT, WaitResults

from streams.agents.commit import Offsets


class Consumer(aiokafka.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Delivered by the lanes as they take each record (faust's stream tracks it inline, not here).
        self.offsets: Offsets[TP] = Offsets()
        super().__init__(*args, **kwargs)

    def ack(self, message: Message) -> bool:
        """faust acks a message once every holder let go; a lane holds it until it is handled."""
        acked = super().ack(message)
        self.offsets.handle(message.tp, message.offset)
        return acked

    def _new_offset(self, tp: TP) -> int | None:
        # faust's lists of acked offsets are not read: clear them so they do not grow.
        self._acked[tp].clear()
        self._acked_index[tp].clear()
        return self.offsets.position(tp)

    def _filter_tps_with_pending_acks(self, topics: Any = None) -> Iterator[TP]:
        return (tp for tp in self.offsets.partitions()
                if topics is None or tp in topics or tp.topic in topics)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        # Not ours to commit any more; if assigned again, faust reads it again from the committed offset.
        self.offsets.reset(revoked)
        await super().on_partitions_revoked(revoked)

    async def wait_empty(self) -> None:
        """Wait for the batches being written, not for what the lanes read ahead of them.

        faust waits, before a rebalance and at stop, until every message handed to an agent is
        acknowledged. A lane's read-ahead (thousands of documents behind a backfill) would hold the
        rebalance for minutes, so it is handed back unwritten: never acknowledged, so no offset is
        committed past it, and read again from the committed offsets when partitions are assigned.
        """
        runtime = getattr(self.app, "headwater_runtime", None)
        for lane in list(runtime.lanes) if runtime is not None else []:
            for event in lane.release():
                self._unacked_messages.discard(event.message)
        await super().wait_empty()

    async def wait_first(self, *coros: WaitArgT, timeout: Any = None) -> WaitResults:
        first = coros[0] if coros else None
        if (not asyncio.iscoroutine(first) or timeout is not None or self.should_stop
                or self.suspend_flow.is_set()):
            return await super().wait_first(*coros, timeout=timeout)
        return await wait_first(first, coros[1:], super().wait_first)


async def wait_first(first: Coroutine[Any, Any, Any], others: tuple[WaitArgT, ...], race: Any) -> WaitResults:
    """``race(first, *others)``, unless ``first`` finishes without waiting: then it alone is the winner."""
    try:
        pending = first.send(None)
    except StopIteration as done:
        _close(others)
        return WaitResults([first], [done.value], False)
    except BaseException:
        _close(others)
        raise
    rest = resume(first, pending)
    results: WaitResults = await race(rest, *others)
    return WaitResults([first if w is rest else w for w in results.done], results.results, results.stopped)


async def resume(coro: Coroutine[Any, Any, Any], pending: Any) -> Any:
    """Go on with ``coro``, which has handed ``pending`` to the event loop, as its task would have."""
    while True:
        try:
            await _Yield(pending)
        except BaseException as exc:  # noqa: BLE001 - a cancellation, say, belongs to the coroutine
            thrown: BaseException | None = exc
        else:
            thrown = None
        try:
            pending = coro.send(None) if thrown is None else coro.throw(thrown)
        except StopIteration as done:
            return done.value


def _close(others: tuple[WaitArgT, ...]) -> None:
    for other in others:
        if asyncio.iscoroutine(other):
            other.close()  # never awaited: closing keeps "coroutine was never awaited" away


class _Yield(Awaitable[Any]):
    """Hands an object that a coroutine yielded on to the task that runs us (a future, or None)."""

    def __init__(self, pending: Any) -> None:
        self.pending = pending

    def __await__(self) -> Generator[Any, None, None]:
        yield self.pending


class Transport(aiokafka.Transport):
    Consumer = Consumer


def transport(app: faust.App) -> Transport:
    """The transport faust's own would be, with :class:`Consumer`."""
    return Transport(app.conf.broker_consumer, app)
