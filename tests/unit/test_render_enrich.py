from datetime import UTC, datetime

import pytest

from schemas import (AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading)
from streams.transforms.chunk import Chunk
from streams.transforms.enrich import (PROPERTY_TYPES, KafkaPosition, chunk_uuid, content_hash, detect_language,
                                       enrich, keywords)
from streams.transforms.render import render

pytestmark = pytest.mark.unit

T = datetime(2026, 3, 1, 12, 3, tzinfo=UTC)
POS = KafkaPosition("in", 2, 77)


def sensor(event_id: str = "s1") -> SensorEvent:
    return SensorEvent(event_id=event_id, source="gw", event_time=T, payload=SensorReading(
        device_id="pump-7", metric="temperature", value=81.2, unit="C", location="building A"))


def app() -> AppEventEnvelope:
    return AppEventEnvelope(event_id="a1", source="shop", event_time=T, payload=AppEvent(
        app="shop", action="refund_issued", actor="maria", message="Refund for order 991.", attributes={"eur": 20}))


def doc(version: int = 1) -> DocumentEvent:
    return DocumentEvent(event_id=f"d-v{version}", source="wiki", event_time=T, payload=Document(
        doc_id="guide", title="Guide", uri="wiki://guide", text="Hello world.", version=version))


def test_sensor_reading_reads_as_a_sentence() -> None:
    r = render(sensor())
    assert r.text == "Sensor pump-7 in building A reported temperature 81.2 °C at 2026-03-01 12:03 UTC."
    assert r.properties == {"device_id": "pump-7", "metric": "temperature", "value": 81.2, "unit": "°C",
                            "location": "building A"}


def test_app_event_reads_as_a_sentence() -> None:
    assert render(app()).text == "maria refund issued in shop at 2026-03-01 12:03 UTC: Refund for order 991.; eur: 20"


def test_document_keeps_its_text() -> None:
    assert render(doc()).text == "Hello world." and render(doc()).title == "Guide"


@pytest.mark.parametrize("event", [sensor(), app(), doc()], ids=["sensor", "app", "document"])
def test_every_kind_has_every_property_with_its_declared_type(event: object) -> None:
    rendered = render(event)  # type: ignore[arg-type]
    records = enrich(event, rendered, [Chunk(0, rendered.text, 0, len(rendered.text), "")], POS)  # type: ignore[arg-type]
    props = records[0].properties
    assert set(props) == set(PROPERTY_TYPES)
    py = {"text": str, "text[]": list, "int": int, "number": float, "date": datetime, "bool": bool}
    for key, kind in PROPERTY_TYPES.items():
        assert isinstance(props[key], py[kind]), key
    assert (props["kafka_topic"], props["kafka_partition"], props["kafka_offset"]) == ("in", 2, 77)


def test_document_versions_share_ids_per_chunk_and_events_do_not() -> None:
    c = [Chunk(0, "Hello world.", 0, 12, "")]
    v1 = enrich(doc(1), render(doc(1)), c, POS)[0]
    v2 = enrich(doc(2), render(doc(2)), c, POS)[0]
    assert v1.uuid == v2.uuid == chunk_uuid("default", "document", "guide", 0)
    s1 = enrich(sensor("s1"), render(sensor("s1")), c, POS)[0]
    s2 = enrich(sensor("s2"), render(sensor("s2")), c, POS)[0]
    assert s1.uuid != s2.uuid
    assert chunk_uuid("a", "document", "guide", 0) != chunk_uuid("b", "document", "guide", 0)


@pytest.mark.parametrize(("text", "lang"), [
    ("The pump in the basement of the building is running hot and it is loud.", "en"),
    ("Die Pumpe im Keller ist heiß und das ist nicht gut für den Betrieb.", "de"),
    ("La pompe est chaude et le bruit est fort dans la cave pour les gens.", "fr"),
    ("42 17 99", "und"),
])
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_keywords_skip_stopwords_and_rank_by_frequency() -> None:
    assert keywords("The pump and the valve. The pump failed; pump seven.", k=3) == ["pump", "valve", "failed"]


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Hello   World") == content_hash("hello world\n")
