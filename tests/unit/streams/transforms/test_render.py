from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas import AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading
from streams.transforms.render import Rendered, number, pretty_unit, render

pytestmark = pytest.mark.unit

T = datetime(2026, 1, 1, 12, 3, 27, tzinfo=UTC)


def sensor(**payload: object) -> SensorEvent:
    fields = {"device_id": "pump-7", "metric": "temperature", "value": 81.2, "unit": "C",
              "location": "building A", **payload}
    reading = SensorReading(**fields)  # type: ignore[arg-type]
    return SensorEvent(event_id="s1", source="gw", event_time=T, payload=reading)


def app(**payload: object) -> AppEventEnvelope:
    fields = {"app": "shop", "action": "refund_issued", "actor": "maria", "message": "Refund for order 991.",
              **payload}
    payload = AppEvent(**fields)  # type: ignore[arg-type]
    return AppEventEnvelope(event_id="a1", source="shop", event_time=T, payload=payload)


def test_sensor_reading_reads_as_a_sentence_with_properties() -> None:
    assert render(sensor()) == Rendered(
        "Sensor pump-7 in building A reported temperature 81.2 °C at 2026-01-01 12:03 UTC.",
        "pump-7 temperature",
        {"device_id": "pump-7", "metric": "temperature", "value": 81.2, "unit": "°C",
         "location": "building A"})


@pytest.mark.parametrize(("payload", "text"), [
    ({"location": "", "unit": ""}, "Sensor pump-7 reported temperature 81.2 at 2026-01-01 12:03 UTC."),
    ({"metric": "co2_level", "value": 1500.0, "unit": "ppm"},
     "Sensor pump-7 in building A reported co2 level 1500 ppm at 2026-01-01 12:03 UTC."),
    ({"tags": {"line": "2", "floor": "3"}},
     "Sensor pump-7 in building A reported temperature 81.2 °C at 2026-01-01 12:03 UTC"
     " (floor: 3, line: 2)."),
])
def test_sensor_sentence_variants(payload: dict[str, object], text: str) -> None:
    assert render(sensor(**payload)).text == text


def test_event_time_is_written_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    event = sensor().model_copy(update={"event_time": datetime(2026, 1, 1, 13, 3, tzinfo=paris)})
    assert "at 2026-01-01 12:03 UTC" in render(event).text


@pytest.mark.parametrize(("unit", "pretty"), [
    ("C", "°C"), ("degC", "°C"), (" celsius ", "°C"), ("F", "°F"), ("pct", "%"), ("percent", "%"),
    ("K", "K"), ("ppm", "ppm"), ("kWh", "kWh"), ("", ""),
])
def test_units_are_written_as_people_write_them(unit: str, pretty: str) -> None:
    assert pretty_unit(unit) == pretty


@pytest.mark.parametrize(("value", "text"), [
    (81.2, "81.2"), (1500.0, "1500"), (0.1 + 0.2, "0.3"), (-4.5, "-4.5")])
def test_numbers_carry_no_float_noise(value: float, text: str) -> None:
    assert number(value) == text


def test_app_event_reads_as_a_sentence_with_properties() -> None:
    assert render(app(attributes={"eur": 20, "vip": True, "rate": 0.5})) == Rendered(
        "maria refund issued in shop at 2026-01-01 12:03 UTC: Refund for order 991.;"
        " eur: 20; rate: 0.5; vip: yes",
        "shop refund issued",
        {"app": "shop", "action": "refund_issued", "actor": "maria"})


def test_app_event_without_actor_or_message() -> None:
    assert render(app(actor="", message="  ")).text == "Someone refund issued in shop at 2026-01-01 12:03 UTC"


def test_document_keeps_its_text_unchanged() -> None:
    text = "# Guide\n\n  Hello   world.\n"
    event = DocumentEvent(event_id="d1", source="wiki", event_time=T,
                          payload=Document(doc_id="guide", title="Guide", text=text))
    assert render(event) == Rendered(text, "Guide", {})


def test_rendering_is_deterministic() -> None:
    assert render(sensor(tags={"b": "2", "a": "1"})) == render(sensor(tags={"a": "1", "b": "2"}))
