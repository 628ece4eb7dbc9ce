"""The planner at trusted event times: a device with a wrong clock neither freezes its state nor lies about when."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from schemas import AnyEvent, Document, DocumentEvent, SensorEvent, SensorReading, encode, message_key
from schemas.chunk import KafkaPosition
from streams.agents.runtime import curation
from streams.plan import Plan, plan_batch
from streams.settings import CurateSettings
from streams.transforms.clock import replaces
from streams.transforms.validate import Item

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
SKEW_S = 300.0
Y2099 = datetime(2099, 1, 1, tzinfo=UTC)
CURATION = {mode: curation(CurateSettings(sensor_readings=mode)) for mode in ("index", "state")}


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def reading(n: int, stamp: datetime, value: float) -> SensorEvent:
    return SensorEvent(event_id=f"r{n}", source="plant", tenant="acme", event_time=stamp,
                       payload=SensorReading(device_id="pump-7", metric="temp", value=value, unit="C"))


def item(n: int, event: AnyEvent, received: datetime | None) -> Item:
    return Item(encode(event), message_key(event), KafkaPosition("sensors", 0, n), ms(received) if received else None)


def plan(items: list[Item], mode: str = "state", now: datetime = NOW) -> Plan:
    return plan_batch(items, lambda t: len(t.split()), document_topic="docs", max_bytes=10_000, max_tokens=64,
                      overlap_tokens=0, now=now, max_clock_skew_s=SKEW_S, curation=CURATION[mode])


@pytest.mark.parametrize("mode", ["index", "state"])
def test_a_reading_from_2099_is_clamped_and_the_next_right_one_is_the_state(mode: str) -> None:
    t1, t2 = NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)
    p = plan([item(1, reading(1, Y2099, 99.0), t1), item(2, reading(2, t2, 21.5), t2)], mode)
    [(when, state)] = p.states.values()
    assert (state.properties["event_id"], state.properties["value"], when) == ("r2", 21.5, t2)
    assert state.properties["clock_skew_s"] == 0.0 and "2099" not in state.properties["text"]
    if mode == "index":  # the bogus reading is still indexed, at when it was received, noting its clock
        [bogus] = [r for r in p.records if r.properties["event_id"] == "r1"]
        assert (bogus.properties["value"], bogus.properties["event_time"]) == (99.0, t1)
        assert bogus.properties["clock_skew_s"] == (Y2099 - t1).total_seconds() and "2099" not in bogus.text


@pytest.mark.parametrize("mode", ["index", "state"])
def test_a_lone_reading_from_2099_is_the_state_at_its_arrival_noting_its_clock(mode: str) -> None:
    t1 = NOW - timedelta(seconds=3)
    [(when, state)] = plan([item(1, reading(1, Y2099, 99.0), t1)], mode).states.values()
    p = state.properties
    assert (when, p["event_time"], p["value"], p["clock_skew_s"]) == (t1, t1, 99.0, (Y2099 - t1).total_seconds())


def test_a_document_from_2099_is_indexed_at_its_arrival_noting_its_clock() -> None:
    doc = DocumentEvent(event_id="d1", source="wiki", tenant="acme", event_time=Y2099,
                        payload=Document(doc_id="d", title="Pumps", text="Pump seven feeds the cooling loop."))
    p = plan([item(1, doc, None)])  # no Kafka timestamp: the worker's clock is the reference
    [source] = p.sources
    assert source.event is not None and source.event.event_time == NOW
    assert source.clock_skew_s == (Y2099 - NOW).total_seconds()


# --- the whole planner in batches of any size, against a stored state -----------------------------

KINDS = st.sampled_from(["on-time", "late", "bogus"])
log = st.lists(st.tuples(KINDS, st.integers(0, 600), st.integers(1, 70 * 365 * 86400), st.booleans()),
               min_size=1, max_size=30)


@hyp_settings(max_examples=60, deadline=None, print_blob=True)
@given(steps=log, mode=st.sampled_from(["index", "state"]), bogus_stored=st.booleans())
def test_batches_of_any_size_recover_from_a_wrong_clock(steps: list[tuple[str, int, int, bool]], mode: str,
                                                        bogus_stored: bool) -> None:
    """Readings of one series in log order, some stamped far ahead, planned in batches that end where a step
    says so and compared with the stored state as the indexer does: the state is never stamped beyond now +
    skew, and after an on-time reading that follows the last bogus one, it is that reading or a newer one."""
    received, batch, stored = NOW - timedelta(days=30), [], (Y2099, "pre-fix") if bogus_stored else None
    recovered: tuple[int, datetime] | None = None
    last_bogus = -1 if bogus_stored else None
    for n, (kind, gap_s, off_s, flush) in enumerate(steps):
        received += timedelta(seconds=gap_s)
        stamp = {"on-time": received, "late": received - timedelta(seconds=off_s),
                 "bogus": received + timedelta(seconds=SKEW_S + off_s)}[kind]
        batch.append(item(n, reading(n, stamp, float(n)), received))
        if kind == "bogus":
            last_bogus, recovered = n, None
        elif kind == "on-time" and last_bogus is not None and recovered is None:
            recovered = (n, stamp)
        if flush or n == len(steps) - 1:
            now = received + timedelta(seconds=1)
            for when, state in plan(batch, mode, now).states.values():
                p = state.properties
                assert when == p["event_time"] <= now + timedelta(seconds=SKEW_S)
                assert p["clock_skew_s"] >= 0.0 and p["event_time"] <= received
                if replaces(stored[0] if stored else None, when, now, timedelta(seconds=SKEW_S)):
                    stored = (when, p["event_id"])
            batch = []
    assert stored is not None and stored[0] <= received + timedelta(seconds=SKEW_S)
    if recovered is not None:
        assert stored[1] != "pre-fix" and int(stored[1][1:]) >= recovered[0] and stored[0] >= recovered[1]
