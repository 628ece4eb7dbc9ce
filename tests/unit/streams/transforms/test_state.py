from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from schemas import SensorEvent, SensorReading
from schemas.chunk import PROPERTIES, KafkaPosition
from streams.agents.runtime import curation
from streams.settings import CurateSettings
from streams.transforms.state import state_record

pytestmark = pytest.mark.unit

T = datetime(2026, 1, 1, tzinfo=UTC)
STAMPED_AT_WRITE = {"index_time", "model_id"}


def reading(value: float, minute: int = 0, *, device: str = "pump-7", location: str = "hall 2",
            unit: str = "C", event_id: str = "r1", tags: dict[str, str] | None = None) -> SensorEvent:
    return SensorEvent(event_id=event_id, source="plant", tenant="acme", event_time=T + timedelta(minutes=minute),
                       payload=SensorReading(device_id=device, metric="inlet_temp", value=value, unit=unit,
                                             location=location, tags=tags or {}))


def test_a_state_has_every_stored_property_and_shows_its_reading() -> None:
    cur = curation(CurateSettings())
    e = reading(81.25, 3)
    s = state_record(e, KafkaPosition("sensors", 2, 17), cur.series(e))
    assert set(s.properties) == set(PROPERTIES) - STAMPED_AT_WRITE
    assert s.properties["text"] == ("Current inlet temp of pump-7 in hall 2: 81.25 °C "
                                    "(latest reading, 2026-01-01 00:03 UTC).")
    p = s.properties
    assert (p["value"], p["event_time"], p["event_id"], p["kafka_partition"], p["kafka_offset"]) == (
        81.25, e.event_time, "r1", 2, 17)
    assert (p["record_type"], p["device_id"], p["metric"], p["location"], p["char_end"]) == (
        "state", "pump-7", "inlet_temp", "hall 2", len(p["text"]))
    assert s.text == "Sensor pump-7 in hall 2 measures inlet temp in °C."  # what its vector is made from


@hyp_settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2, max_size=6),
       minutes=st.lists(st.integers(0, 10**6), min_size=2, max_size=6))
def test_what_a_state_shows_of_its_series_does_not_depend_on_the_reading_seen_first(
        values: list[float], minutes: list[int]) -> None:
    """Facts are worked out once per series: whichever reading came first, every state of the series
    shows the same title, fields, language and keywords, and each its own value and time."""
    events = [reading(v, m, event_id=f"r{i}") for i, (v, m) in enumerate(zip(values, minutes, strict=False))]
    seen = []
    for order in (events, events[::-1]):
        cur = curation(CurateSettings())
        seen.append({e.event_id: state_record(e, KafkaPosition("s", 0, 0), cur.series(e)) for e in order})
    for event_id, state in seen[0].items():
        assert state == seen[1][event_id]
    for e in events:
        p = seen[0][e.event_id].properties
        assert p["value"] == e.payload.value and p["event_time"] == e.event_time
        assert f"{e.payload.value:.10g} °C" in p["text"] and e.event_time.strftime("%Y-%m-%d %H:%M UTC") in p["text"]
    others = {k: v for k, v in seen[0][events[0].event_id].properties.items()
              if k not in {"value", "event_time", "ingest_time", "event_id", "text", "char_end", "content_hash"}}
    for state in seen[0].values():
        assert {k: state.properties[k] for k in others} == others


def test_a_changed_place_or_unit_is_a_new_description_of_the_same_state_object() -> None:
    cur = curation(CurateSettings())
    a, b = reading(1.0), reading(2.0, 1, location="roof", unit="K")
    sa, sb = (state_record(e, KafkaPosition("s", 0, 0), cur.series(e)) for e in (a, b))
    assert sa.uuid == sb.uuid  # one current state per (tenant, device, metric)
    assert "roof" in sb.properties["text"] and sb.properties["unit"] == "K" and "roof" in sb.text
    assert cur.series(a) is cur.series(reading(5.0, 9))  # same series, facts worked out once


def test_pii_in_a_field_is_redacted_in_every_state_and_counted() -> None:
    cur = curation(CurateSettings())
    e = reading(4.0, device="meter-ann.lee@example.com", location="desk of bob@example.org")
    facts = cur.series(e)
    s = state_record(e, KafkaPosition("s", 0, 0), facts)
    for name in ("text", "device_id", "location", "title"):
        assert "@example" not in s.properties[name]
    assert "@example" not in s.text
    assert dict(facts.redactions).get("EMAIL", 0) >= 2
