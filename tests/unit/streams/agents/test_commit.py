"""The commit rule: whatever the interleaving, no committed offset passes an unhandled record.

The model below is the partition as the broker sees it (which offsets exist, which are committed)
and what Weaviate holds (``stored``); it shares nothing with :mod:`streams.agents.commit` but the
calls a consumer makes. Operations: deliver the next record, handle any record in hand in any
order, hand one back unwritten, commit, rebalance (revoked, read again from the committed offset;
records still in hand may finish later) and crash (everything in hand lost).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.agents.commit import Offsets, Watermark

pytestmark = pytest.mark.unit

TP = ("docs", 0)
OPS = st.sampled_from(["deliver", "deliver", "deliver", "handle", "handle", "hand_back", "commit", "commit",
                       "rebalance", "crash", "late"])


class Partition:
    """The broker's side and the store's: existing offsets (with holes), the committed one, what is stored."""

    def __init__(self, holes: set[int], size: int) -> None:
        self.log = [o for o in range(size) if o not in holes]
        self.committed = 0
        self.read = 0  # the next index into ``log`` to deliver
        self.stored: set[int] = set()

    def seek_committed(self) -> None:
        self.read = next((i for i, o in enumerate(self.log) if o >= self.committed), len(self.log))

    def check(self) -> None:
        lost = [o for o in self.log if o < self.committed and o not in self.stored]
        assert not lost, f"committed {self.committed} past unhandled offsets {lost}"


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(st.tuples(OPS, st.integers(0, 1000)), max_size=120),
       holes=st.sets(st.integers(0, 40), max_size=6))
def test_no_commit_passes_an_unhandled_record(ops: list[tuple[str, int]], holes: set[int]) -> None:
    part, offsets = Partition(holes, 40), Offsets[tuple[str, int]]()
    in_hand: list[int] = []  # delivered in this assignment, neither handled nor handed back
    stale: list[int] = []  # still in hand from before a rebalance: may be written later
    for op, pick in ops:
        if op == "deliver" and part.read < len(part.log):
            offset = part.log[part.read]
            part.read += 1
            offsets.deliver(TP, offset)
            in_hand.append(offset)
        elif op in ("handle", "hand_back", "late"):
            pool = stale if op == "late" else in_hand
            if pool:
                offset = pool.pop(pick % len(pool))
                if op != "hand_back":
                    part.stored.add(offset)
                    offsets.handle(TP, offset)
        elif op == "commit":
            position = offsets.position(TP)
            if position is not None and position > part.committed:
                part.committed = position
        elif op == "rebalance":
            offsets.reset([TP])
            stale += in_hand
            in_hand = []
            part.seek_committed()
        elif op == "crash":
            offsets, in_hand, stale = Offsets[tuple[str, int]](), [], []
            part.seek_committed()
        part.check()


def test_position_waits_for_the_first_unhandled_record_and_skips_holes() -> None:
    mark = Watermark()
    for offset in (5, 6, 9, 10):  # 7 and 8 do not exist for this consumer
        mark.deliver(offset)
    assert mark.position() == 5
    mark.handle(6)
    mark.handle(9)
    assert mark.position() == 5  # out of order: 5 is still in hand
    mark.handle(5)
    assert mark.position() == 10
    mark.handle(10)
    assert mark.position() == 11


def test_a_hole_of_one_is_never_jumped() -> None:
    """faust's own rule commits over exactly this: committed 10, 11 acked, 10 still in hand."""
    offsets: Offsets[tuple[str, int]] = Offsets()
    for offset in (10, 11, 12):
        offsets.deliver(TP, offset)
    offsets.handle(TP, 11)
    offsets.handle(TP, 12)
    assert offsets.position(TP) == 10


def test_a_seek_back_starts_over_and_nothing_is_delivered_means_nothing_to_commit() -> None:
    offsets: Offsets[tuple[str, int]] = Offsets()
    assert offsets.position(TP) is None
    for offset in (0, 1, 2):
        offsets.deliver(TP, offset)
    offsets.handle(TP, 0)
    offsets.deliver(TP, 1)  # read again from the committed offset
    assert offsets.position(TP) == 1
    offsets.handle(TP, 2)  # handled before the seek: still below the first record in hand
    assert offsets.position(TP) == 1
