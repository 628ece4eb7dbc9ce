"""Event time you can trust: an event's own stamp, bounded by when its record reached Kafka.

Input: an event's ``event_time``, its record's Kafka timestamp and the worker's ``now`` (read at
the edge, passed in). Output: the event time that orders current states, and how many seconds
the event's own clock was ahead (its stored ``clock_skew_s``). Pure: no clock read, no settings.

Why: current states are "newer event time wins". One reading from a device with a broken clock,
stamped 2099-01-01, would stay its device's current state for good: every correctly stamped
reading after it is older. So an event stamped more than ``max_skew`` after its record was
received is **clamped** to the time it was received, and its stored objects say by how much
(``clock_skew_s``; 0 for a trusted stamp: the original is ``event_time + clock_skew_s``).

Clamped, not dead-lettered: a reading's value is real, only its device's clock is wrong, and a
dead-lettered reading would leave the state at an older value instead. The device recovers as
soon as its clock is right: a correctly stamped reading received later is stamped at least at
the clamped time, and newer-or-equal wins.

"Received" is the record's Kafka timestamp, not the worker's clock, so that a replay of the log
decides every event the same way whenever it runs. That timestamp can be a producer's clock
(CreateTime) and wrong too: it is bounded by ``now``, which also stands in for a record without one.
Every kind is clamped alike (documents are ordered by version, but their event time still
filters searches, orders twins and expires objects).

Objects stored before these rules may hold a stamp from the future: :func:`replaces` never counts
a stored time beyond ``now + max_skew`` as newer, so the next reading replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from schemas import AnyEvent


def received_at(timestamp_ms: int | None, now: datetime) -> datetime:
    """When the record reached Kafka (its timestamp), never after ``now``; ``now`` for a record without one."""
    if timestamp_ms is None or timestamp_ms <= 0:
        return now
    return min(datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC), now)


def trusted_time(event_time: datetime, received: datetime, max_skew: timedelta) -> datetime:
    """``event_time``, or ``received`` where ``event_time`` is more than ``max_skew`` after it.

    >>> t = datetime(2026, 12, 8, tzinfo=UTC)
    >>> trusted_time(datetime(2099, 1, 1, tzinfo=UTC), t, timedelta(minutes=5)) == t
    True
    """
    return received if event_time > received + max_skew else event_time


def replaces(stored: datetime | None, candidate: datetime, now: datetime, max_skew: timedelta) -> bool:
    """Whether a state at ``candidate`` replaces the stored one at ``stored`` (None: nothing stored).

    Newer or equal wins (of equals, the later in the log). A stored time beyond ``now + max_skew``
    was written before clocks were checked and is never newer: the candidate replaces it.
    """
    return stored is None or stored > now + max_skew or stored <= candidate


@dataclass(frozen=True)
class EventClock:
    """The worker's clock when a batch is planned, and how far ahead of its arrival an event may be stamped."""

    now: datetime
    max_skew: timedelta

    @classmethod
    def of(cls, now: datetime, max_skew_s: float) -> EventClock:
        return cls(now, timedelta(seconds=max_skew_s))

    def trusted(self, event_time: datetime, timestamp_ms: int | None) -> datetime:
        """The event time that orders: see :func:`trusted_time`."""
        return trusted_time(event_time, received_at(timestamp_ms, self.now), self.max_skew)

    def clamped(self, event: AnyEvent, timestamp_ms: int | None) -> tuple[AnyEvent, float]:
        """``event`` at its trusted time, and how many seconds its own stamp was ahead (0.0: trusted)."""
        when = self.trusted(event.event_time, timestamp_ms)
        if when == event.event_time:
            return event, 0.0
        return event.model_copy(update={"event_time": when}), (event.event_time - when).total_seconds()
