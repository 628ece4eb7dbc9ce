"""Adaptive batching: bounds hold for any arrival pattern, order is kept, nothing is lost."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.agents.batching import Gather, Lane, work

pytestmark = pytest.mark.unit


def test_work_is_estimated_from_kind_and_size() -> None:
    assert work("sensor", 300, readings_are_objects=False) == 0.0
    assert work("sensor", 300, readings_are_objects=True) == 1.0
    assert work("app", 300, readings_are_objects=False) == 1.0
    assert work("document", 100, readings_are_objects=False) == 1.0
    assert work("document", 80_000, readings_are_objects=False) == 100.0


@settings(max_examples=40, deadline=None)
@given(costs=st.lists(st.floats(0, 50), min_size=1, max_size=120), max_events=st.integers(1, 30),
       max_work=st.floats(1, 100), pauses=st.lists(st.sampled_from([0.0, 0.0, 0.001, 0.004]), min_size=1))
def test_batches_keep_order_and_bounds_and_lose_nothing(costs: list[float], max_events: int, max_work: float,
                                                        pauses: list[float]) -> None:
    seen: list[list[int]] = []

    async def process(batch: list[int]) -> None:
        seen.append(batch)
        await asyncio.sleep(pauses[len(seen) % len(pauses)])  # the writer is sometimes slow

    async def main() -> None:
        lane: Lane[int] = Lane(Gather(max_events, max_work, within_s=0.002), process)
        for i, c in enumerate(costs):
            await lane.put(i, c)
            if pauses[i % len(pauses)]:
                await asyncio.sleep(pauses[i % len(pauses)])
        while sum(map(len, seen)) < len(costs):
            await asyncio.sleep(0.001)
        lane.close()

    asyncio.run(main())
    assert [i for b in seen for i in b] == list(range(len(costs)))
    for b in seen:
        assert 1 <= len(b) <= max_events
        # over the work bound only by the record that filled it
        assert len(b) == 1 or sum(costs[i] for i in b[:-1]) < max_work


def test_batches_grow_while_the_writer_is_busy() -> None:
    sizes: list[int] = []

    async def process(batch: list[int]) -> None:
        sizes.append(len(batch))
        await asyncio.sleep(0.05)

    async def main() -> None:
        lane: Lane[int] = Lane(Gather(10_000, 1e9, within_s=0.001), process)
        for i in range(2_000):
            await lane.put(i, 0.0)
            if i % 100 == 0:
                await asyncio.sleep(0.01)
        while sum(sizes) < 2_000:
            await asyncio.sleep(0.01)
        lane.close()

    asyncio.run(main())
    assert sizes[0] == 1  # quiet start: the first record goes at once
    assert max(sizes) >= 100  # a backlog gathered behind a busy writer goes in one batch


def test_work_bound_starts_small_after_a_quiet_spell_and_doubles_while_batches_fill() -> None:
    g: Gather[int] = Gather(1_000, 64, within_s=0.05, start_work=16)
    limits = []
    for _ in range(5):  # a backlog: every batch fills its bound
        while not g.full():
            g.add(0, 4.0, now=0.0)
        limits.append(g.load)
        g.take()
    assert limits == [16, 32, 64, 64, 64]
    g.add(0, 4.0, now=0.0)
    assert g.due(now=1.0) and not g.full()
    g.take()  # short of the bound while the processor was busy: near saturation, not quiet
    assert g.limit == 64
    g.add(0, 4.0, now=0.0)
    g.take(quiet=True)  # the processor sat idle until it was due: the stream went quiet
    assert g.limit == 16


@settings(max_examples=40, deadline=None)
@given(costs=st.lists(st.floats(0, 50), min_size=1, max_size=120), start=st.floats(1, 100))
def test_slow_start_never_passes_max_work_and_loses_nothing(costs: list[float], start: float) -> None:
    g: Gather[int] = Gather(10_000, 64, within_s=0.0, start_work=start)
    batches: list[list[int]] = []
    for i, c in enumerate(costs):
        if g.full():
            batches.append(g.take())
        g.add(i, c, now=0.0)
    batches.append(g.take())
    assert [i for b in batches for i in b] == list(range(len(costs)))
    for b in batches:
        assert len(b) == 1 or sum(costs[i] for i in b[:-1]) < 64


def test_a_failing_processor_stops_the_feeder() -> None:
    async def process(batch: list[int]) -> None:
        raise RuntimeError("boom")

    async def main() -> None:
        lane: Lane[int] = Lane(Gather(1, 10, within_s=0.0), process)
        with pytest.raises(RuntimeError, match="boom"):
            for i in range(100):
                await lane.put(i, 1.0)
                await asyncio.sleep(0.001)

    asyncio.run(main())


def _drain(g: Gather[int], arrivals: list[tuple[float, str]]) -> list[list[int]]:
    """Admit records while there is room, take a batch whenever a whole one waits, then until empty."""
    batches: list[list[int]] = []
    for i, (cost, key) in enumerate(arrivals):
        while not g.room():
            batches.append(g.take())
        g.add(i, cost, now=0.0, key=key)
        if g.full():
            batches.append(g.take())
    while g.pending:
        batches.append(g.take())
    return batches


@settings(max_examples=60, deadline=None)
@given(arrivals=st.lists(st.tuples(st.sampled_from([0.5, 1.0, 2.0, 40.0, 90.0]), st.sampled_from("abcdefg")),
                         min_size=1, max_size=80),
       max_events=st.integers(1, 16), read_ahead=st.integers(1, 300))
def test_read_ahead_keeps_each_keys_order_takes_the_oldest_first_and_loses_nothing(
        arrivals: list[tuple[float, str]], max_events: int, read_ahead: int) -> None:
    g: Gather[int] = Gather(max_events, 64, within_s=0.0, start_work=16, read_ahead=read_ahead)
    batches = _drain(g, arrivals)
    taken = [i for b in batches for i in b]
    assert sorted(taken) == list(range(len(arrivals)))  # every record exactly once
    for key in set(k for _, k in arrivals):
        mine = [i for i in taken if arrivals[i][1] == key]
        assert mine == sorted(mine), key  # a key's records in arrival order
    done: set[int] = set()
    for b in batches:
        assert 1 <= len(b) <= max_events
        assert b[0] == min(set(range(len(arrivals))) - done)  # the oldest record never waits for a newer one
        assert b == sorted(b)
        done |= set(b)


def test_an_edit_behind_a_backfill_goes_in_the_next_batch_but_never_before_its_own_older_version() -> None:
    g: Gather[int] = Gather(16, 64, within_s=0.0, start_work=16, read_ahead=4096)
    for i in range(20):  # a backfill: 20 articles of ~60 texts each
        g.add(i, 60.0, now=0.0, key=f"article-{i}")
    g.add(20, 1.0, now=0.0, key="memo")  # an edited memo
    g.add(21, 60.0, now=0.0, key="article-3-v2")
    g.add(22, 1.0, now=0.0, key="article-5")  # a delete of an article still waiting: after it, not before
    assert g.take() == [0, 20]  # the memo does not wait for 20 articles
    rest = [g.take() for _ in range(20) if g.pending]
    where = {i: n for n, b in enumerate(rest) for i in b}
    assert where[22] == where[5] and rest[where[5]].index(22) > rest[where[5]].index(5)


def test_without_read_ahead_batches_stay_in_arrival_order() -> None:
    g: Gather[int] = Gather(16, 64, within_s=0.0, start_work=16)
    g.add(0, 60.0, now=0.0, key="a")
    assert not g.room()  # a whole batch waits: the feeder waits too
    assert g.take() == [0]


def test_release_gives_back_what_was_read_ahead_in_order_and_empties_the_gather() -> None:
    g: Gather[int] = Gather(16, 64, within_s=0.0, read_ahead=4096)
    for i in range(5):
        g.add(i, 30.0, now=0.0, key=str(i))
    assert g.take() == [0, 1, 2]  # the batch being written stays with the lane
    assert g.release() == [3, 4]
    assert g.pending == [] and g.load == 0.0 and g.room()
