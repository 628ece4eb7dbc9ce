"""The commit rule: no partition's committed offset passes a record that is not yet handled.

"Handled" means written to Weaviate or dead-lettered. A lane hands records back unwritten at a
rebalance, writes batches out of arrival order (the document read-ahead), retries, or splits a
batch to find a poison record; whatever the order of acknowledgements, a partition may commit only
up to its first record still in hand.

faust's own rule (``Consumer._new_offset``, faust-streaming 0.15.3) is not that: it commits over a
hole of exactly one offset (``min(acked) - committed > 1``), and checks nothing while no offset is
committed (a new group, offset 0, right after a revocation). Upstream: faust-streaming issue 606,
PR 707. So Headwater keeps its own watermark per partition, from what the consumer actually
delivered, and faust commits what :meth:`Offsets.position` says (:mod:`streams.agents.consumer`).

The watermark follows delivery, not offset arithmetic: the offsets of a partition are handed out in
increasing order, and anything between two delivered offsets does not exist for this consumer
(transaction markers, compacted records). The position is the first delivered offset not handled
yet, or one past the last delivered when every one is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)  # a partition: faust's TP, or any hashable name of one


@dataclass
class Watermark:
    """One partition in one assignment: delivered offsets in order, and which of them are handled."""

    waiting: deque[int] = field(default_factory=deque)  # delivered, oldest first, down to the first unhandled
    handled: set[int] = field(default_factory=set)  # handled offsets still behind an unhandled one
    last: int | None = None  # the last delivered offset

    def deliver(self, offset: int) -> None:
        if self.last is not None and offset <= self.last:
            # Delivered again from further back (a seek): what was delivered since will come again.
            self.waiting.clear()
            self.handled.clear()
        self.waiting.append(offset)
        self.last = offset

    def handle(self, offset: int) -> None:
        if self.waiting and self.waiting[0] <= offset <= self.waiting[-1]:
            self.handled.add(offset)
            while self.waiting and self.waiting[0] in self.handled:
                self.handled.discard(self.waiting.popleft())

    def position(self) -> int | None:
        """The offset to commit (the next one to read), or None before anything was delivered."""
        if self.waiting:
            return self.waiting[0]
        return None if self.last is None else self.last + 1


class Offsets(Generic[K]):
    """Watermarks by partition; a revoked or newly assigned partition starts over."""

    def __init__(self) -> None:
        self._marks: dict[K, Watermark] = {}

    def deliver(self, tp: K, offset: int) -> None:
        self._marks.setdefault(tp, Watermark()).deliver(offset)

    def handle(self, tp: K, offset: int) -> None:
        """Mark a record handled; one delivered in an earlier assignment changes nothing unless it is
        in the current one's range, where handling it is as true as ever (ids are deterministic)."""
        mark = self._marks.get(tp)
        if mark is not None:
            mark.handle(offset)

    def position(self, tp: K) -> int | None:
        mark = self._marks.get(tp)
        return None if mark is None else mark.position()

    def reset(self, tps: Iterable[K]) -> None:
        for tp in tps:
            self._marks.pop(tp, None)

    def partitions(self) -> list[K]:
        return list(self._marks)
