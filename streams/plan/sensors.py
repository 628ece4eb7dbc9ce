"""Sensor readings and current states: one object per (tenant, device, metric), moved only forward.

Which reading of a batch decides a series' state (:func:`latest_readings`), the state record it
makes (:func:`track_state`), and whether it is newer than the stored one (:func:`newer_states`,
given what the indexer read back) are decided here; what a state shows comes from
:mod:`streams.transforms.state`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from schemas import SensorEvent
from schemas.chunk import ChunkRecord
from streams.plan.base import Plan, noted
from streams.transforms.clock import EventClock, replaces
from streams.transforms.state import SeriesFacts, state_record
from streams.transforms.validate import Item


def series(event: SensorEvent) -> tuple[str, str, str]:
    return event.tenant, event.payload.device_id, event.payload.metric


def latest_readings(clock: EventClock, items: Sequence[Item], results: Sequence[object]
                     ) -> dict[tuple[str, str, str], int]:
    """Per series, the position of the reading that decides its current state: the latest in trusted event
    time, and of equals the later in the log. Only it is rendered and written when readings are not objects
    of their own; the others cost a decode, which is what lets a fleet run at thousands of readings/s.
    """
    latest: dict[tuple[str, str, str], tuple[int, datetime]] = {}
    for i, (item, r) in enumerate(zip(items, results, strict=True)):
        if isinstance(r, SensorEvent):
            key, when = series(r), clock.trusted(r.event_time, item.timestamp_ms)
            if key not in latest or latest[key][1] <= when:
                latest[key] = (i, when)
    return {key: i for key, (i, _) in latest.items()}


def add_state_only(plan: Plan, item: Item, event: SensorEvent, skew: float) -> None:
    """Only the current state is stored: curation never drops a reading, and what the state shows
    besides value and time is its series' (worked out once per series)."""
    cur = plan.chunking.curation
    if cur is None or not cur.sensor_state:
        return
    facts = cur.series(event)
    if facts.redactions:
        plan.redactions.append((event, Counter(dict(facts.redactions))))
    track_state(plan, item, event, facts, skew)


def track_state(plan: Plan, item: Item, event: SensorEvent, facts: SeriesFacts, skew: float) -> None:
    key = f"{event.tenant}/{event.payload.device_id}/{event.payload.metric}"
    if key not in plan.states or plan.states[key][0] <= event.event_time:
        state = noted([state_record(event, item.position, facts)], skew)[0]
        plan.states[key] = (event.event_time, state)
        plan.origin[state.uuid] = item




def newer_states(states: Sequence[ChunkRecord], stored: dict[str, datetime], now: datetime,
                 max_skew: timedelta) -> list[ChunkRecord]:
    """The states that move their series forward against the ``stored`` event times the indexer read.

    Newer or equal wins; a stored state stamped past ``now + max_skew`` (written before stamps were
    trusted) never counts as newer, so the next good reading replaces it (:func:`~streams.transforms.clock.replaces`).
    """
    return [r for r in states if replaces(stored.get(r.uuid), r.properties["event_time"], now, max_skew)]
