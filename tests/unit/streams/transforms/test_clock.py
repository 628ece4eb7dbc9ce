"""Event time you can trust: a wrong clock is clamped to when Kafka received the record, and never freezes a state."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from schemas import SensorEvent, SensorReading
from streams.transforms.clock import EventClock, received_at, replaces, trusted_time

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)
Y2099 = datetime(2099, 1, 1, tzinfo=UTC)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@pytest.mark.parametrize(("timestamp_ms", "want"), [
    (None, NOW),  # no Kafka timestamp: the worker's clock
    (0, NOW),
    (-1, NOW),  # librdkafka's "no timestamp"
    (ms(NOW - timedelta(hours=2)), NOW - timedelta(hours=2)),  # a replay: the record's own time, not now
    (ms(NOW + timedelta(days=3)), NOW),  # a producer's clock ahead (CreateTime): bounded by now
])
def test_received_at_is_the_kafka_timestamp_bounded_by_now(timestamp_ms: int | None, want: datetime) -> None:
    assert received_at(timestamp_ms, NOW) == want


@pytest.mark.parametrize(("event_time", "want"), [
    (NOW, NOW),  # on time
    (NOW - timedelta(days=30), NOW - timedelta(days=30)),  # late (a buffered device): trusted
    (NOW + SKEW, NOW + SKEW),  # ahead, but within the skew allowed
    (NOW + SKEW + timedelta(seconds=1), NOW),  # beyond it: clamped to when it was received
    (Y2099, NOW),
])
def test_trusted_time_clamps_only_a_stamp_beyond_the_skew(event_time: datetime, want: datetime) -> None:
    assert trusted_time(event_time, NOW, SKEW) == want


@pytest.mark.parametrize(("stored", "candidate", "want"), [
    (None, NOW, True),  # nothing stored yet
    (NOW - timedelta(minutes=1), NOW, True),  # newer wins
    (NOW, NOW, True),  # of equals, the later in the log
    (NOW, NOW - timedelta(minutes=1), False),  # an older reading never moves a state back
    (NOW + SKEW, NOW, False),  # stored slightly ahead, within the skew: still newer
    (NOW + SKEW + timedelta(seconds=1), NOW - timedelta(days=1), True),  # stored from the future: replaced
    (Y2099, NOW, True),  # a bogus state written before clocks were checked
])
def test_a_stored_state_from_the_future_is_never_newer(stored: datetime | None, candidate: datetime,
                                                        want: bool) -> None:
    assert replaces(stored, candidate, NOW, SKEW) is want


def reading(event_time: datetime, value: float = 1.0) -> SensorEvent:
    return SensorEvent(event_id="r", source="plant", event_time=event_time,
                       payload=SensorReading(device_id="pump-7", metric="temp", value=value, unit="C"))


@pytest.mark.parametrize(("event_time", "timestamp_ms", "want_time", "want_skew"), [
    (NOW - timedelta(hours=1), ms(NOW - timedelta(hours=1)), NOW - timedelta(hours=1), 0.0),
    (Y2099, ms(NOW - timedelta(hours=1)), NOW - timedelta(hours=1), (Y2099 - NOW).total_seconds() + 3600),
    (Y2099, ms(NOW + timedelta(days=1)), NOW, (Y2099 - NOW).total_seconds()),  # producer's clock wrong too
    (Y2099, None, NOW, (Y2099 - NOW).total_seconds()),
])
def test_clamped_keeps_the_value_and_notes_the_skew(event_time: datetime, timestamp_ms: int | None,
                                                    want_time: datetime, want_skew: float) -> None:
    event, skew = EventClock.of(NOW, SKEW.total_seconds()).clamped(reading(event_time, 42.0), timestamp_ms)
    assert (event.event_time, skew) == (want_time, want_skew)
    assert event.payload == reading(event_time, 42.0).payload  # the value is real: only the time moves
    assert event.event_time + timedelta(seconds=skew) == event_time  # the original stamp can be recovered


# --- one series, folded in log order: the worker's rule in miniature --------------------------------------

@dataclass(frozen=True)
class Step:
    kind: str  # "on-time" (stamped when received), "late" (stamped before), "bogus" (far ahead of the skew)
    gap_s: int  # seconds after the previous record was received (Kafka timestamps in log order)
    off_s: int  # how far before (late) or beyond the skew (bogus) its stamp is
    delay_s: int  # how long after receipt the worker decided it


steps = st.lists(st.builds(Step, st.sampled_from(["on-time", "late", "bogus"]), st.integers(0, 3600),
                           st.integers(1, 80 * 365 * 86400), st.integers(0, 600)), min_size=1, max_size=40)


@hyp_settings(max_examples=500, deadline=None, print_blob=True)
@given(steps=steps, bogus_stored=st.booleans())
def test_a_wrong_clock_never_freezes_a_state_and_a_right_one_recovers_it(steps: list[Step],
                                                                         bogus_stored: bool) -> None:
    """Any sequence of stamps, some far in the future: the state is never stamped beyond now + skew, and once
    an on-time reading arrives after the last bogus one (or after a bogus state stored before this rule), the
    state is that reading or a later one at least as new."""
    clock = NOW - timedelta(days=400)
    state: tuple[int, datetime] | None = (-1, Y2099) if bogus_stored else None
    last_bogus = -1 if bogus_stored else None
    recovered: tuple[int, datetime] | None = None  # the first on-time reading after the last bogus one
    for i, step in enumerate(steps):
        clock += timedelta(seconds=step.gap_s)
        stamp = {"on-time": clock, "late": clock - timedelta(seconds=step.off_s),
                 "bogus": clock + SKEW + timedelta(seconds=step.off_s)}[step.kind]
        now = clock + timedelta(seconds=step.delay_s)
        when = EventClock.of(now, SKEW.total_seconds()).trusted(stamp, ms(clock))
        if replaces(state[1] if state else None, when, now, SKEW):
            state = (i, when)
        if step.kind == "bogus":
            last_bogus, recovered = i, None
        elif step.kind == "on-time" and last_bogus is not None and recovered is None:
            recovered = (i, stamp)
        assert state is not None and state[1] <= now + SKEW
    if recovered is not None:  # that reading, or a later one at least as new: never a bogus one
        assert state is not None and state[0] >= recovered[0] and state[1] >= recovered[1]
