import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading
from schemas.chunk import ENRICHED, ChunkRecord, KafkaPosition
from streams.transforms.chunk import Chunk, chunk_text
from streams.transforms.enrich import NAMESPACE, chunk_uuid, detect_language, enrich, keywords, object_key
from streams.transforms.fingerprint import dedup_key as content_hash
from streams.transforms.render import Rendered, render

pytestmark = pytest.mark.unit

T = datetime(2026, 3, 1, 12, 3, tzinfo=UTC)
POS = KafkaPosition("in", 2, 77)
DOC_TEXT = "*: Pumps - Pumps move water. They need power.\n*: Valves - Valves stop water. They leak."


def words(text: str) -> int:
    return len(text.split())


def sensor(event_id: str = "s1", value: float = 81.2) -> SensorEvent:
    return SensorEvent(event_id=event_id, source="gw", tenant="acme", event_time=T, payload=SensorReading(
        device_id="pump-7", metric="temperature", value=value, unit="C", location="building A"))


def app() -> AppEventEnvelope:
    return AppEventEnvelope(event_id="a1", source="shop", event_time=T, payload=AppEvent(
        app="shop", action="refund_issued", actor="maria", message="Refund for order 991.",
        attributes={"eur": 20}))


def doc(version: int = 1, text: str = DOC_TEXT) -> DocumentEvent:
    return DocumentEvent(event_id=f"d-v{version}", source="wiki", event_time=T,
                         ingest_time=T + timedelta(seconds=3),
                         payload=Document(doc_id="guide", title="Guide", uri="wiki://guide", text=text,
                                          version=version))


def records(event: AnyEvent, max_tokens: int = 8) -> list[ChunkRecord]:
    rendered = render(event)
    return enrich(event, rendered, chunk_text(rendered.text, words, max_tokens, 0), POS)


def test_chunk_uuid_is_uuid5_of_tenant_kind_key_and_index() -> None:
    assert chunk_uuid("acme", "document", "guide", 3) == str(uuid.uuid5(NAMESPACE, "acme/document/guide/3"))
    assert chunk_uuid("acme", "document", "guide", 3) == chunk_uuid("acme", "document", "guide", 3)
    variants = {chunk_uuid(*args) for args in [
        ("acme", "document", "guide", 0), ("beta", "document", "guide", 0), ("acme", "app", "guide", 0),
        ("acme", "document", "guide2", 0), ("acme", "document", "guide", 1)]}
    assert len(variants) == 5


def test_object_key_is_the_doc_id_for_documents_and_the_event_id_otherwise() -> None:
    assert [object_key(e) for e in (doc(), sensor(), app())] == ["guide", "s1", "a1"]


def test_document_versions_share_ids_per_chunk_index() -> None:
    v1, v2 = records(doc(1)), records(doc(2, DOC_TEXT + " Extra words here."))
    assert len(v1) >= 2
    assert [r.uuid for r in v1] == [r.uuid for r in v2[:len(v1)]]
    assert [r.uuid for r in v1] == [chunk_uuid("default", "document", "guide", i) for i in range(len(v1))]


def test_sensor_readings_get_their_own_ids_and_replays_the_same() -> None:
    assert records(sensor("s1"))[0].uuid != records(sensor("s2"))[0].uuid
    assert records(sensor("s1")) == records(sensor("s1"))


@pytest.mark.parametrize("event", [sensor(), app(), doc()], ids=["sensor", "app", "document"])
def test_every_kind_has_every_property_with_its_declared_type(event: AnyEvent) -> None:
    py = {"text": str, "text[]": list, "int": int, "number": float, "date": datetime, "bool": bool}
    for rec in records(event):
        assert set(rec.properties) == set(ENRICHED)
        for key, prop in ENRICHED.items():
            kind = prop.type
            value = rec.properties[key]
            assert isinstance(value, py[kind]) and not (kind == "int" and isinstance(value, bool)), key
        assert all(isinstance(k, str) for k in rec.properties["keywords"])
        assert rec.properties["event_time"].tzinfo is not None
        assert rec.properties["ingest_time"].tzinfo is not None


def test_document_chunks_carry_position_section_and_provenance() -> None:
    recs = records(doc())
    first = recs[0].properties
    assert recs[0].tenant == "default" and "tenant" not in first
    assert recs[0].text == first["text"] == DOC_TEXT[first["char_start"]:first["char_end"]]
    assert [r.properties["chunk_index"] for r in recs] == list(range(len(recs)))
    assert {r.properties["chunk_count"] for r in recs} == {len(recs)}
    assert (first["section"], recs[-1].properties["section"]) == ("Pumps", "Valves")
    assert (first["doc_id"], first["doc_version"], first["uri"], first["title"]) == (
        "guide", 1, "wiki://guide", "Guide")
    assert (first["kind"], first["source"], first["entity_id"], first["event_id"]) == (
        "document", "wiki", "guide", "d-v1")
    assert (first["kafka_topic"], first["kafka_partition"], first["kafka_offset"]) == ("in", 2, 77)
    assert first["ingest_time"] == T + timedelta(seconds=3)
    assert (first["metric"], first["value"], first["app"]) == ("", 0.0, "")


def test_sensor_fields_are_flat_properties_and_ingest_time_defaults_to_event_time() -> None:
    props = records(sensor(), max_tokens=50)[0].properties
    assert {k: props[k] for k in ("metric", "value", "unit", "location", "device_id", "app", "doc_id")} == {
        "metric": "temperature", "value": 81.2, "unit": "°C", "location": "building A",
        "device_id": "pump-7", "app": "", "doc_id": ""}
    assert props["ingest_time"] == props["event_time"] == T
    assert (props["doc_version"], props["entity_id"], props["language"]) == (0, "pump-7", "en")


def test_an_integer_reading_is_stored_as_a_number() -> None:
    event = sensor()
    rendered = Rendered("Pump at 81.", "t", {**render(event).properties, "value": 81})
    rec = enrich(event, rendered, [Chunk(0, "Pump at 81.", 0, 11, "")], POS)[0]
    assert rec.properties["value"] == 81.0 and isinstance(rec.properties["value"], float)


def test_app_fields_are_flat_properties() -> None:
    props = records(app(), max_tokens=50)[0].properties
    assert (props["app"], props["action"], props["actor"], props["device_id"]) == (
        "shop", "refund_issued", "maria", "")


def test_no_chunks_no_records() -> None:
    assert enrich(doc(), render(doc()), [], POS) == []


@pytest.mark.parametrize(("text", "lang"), [
    ("The pump in the basement of the building is running hot and it is loud.", "en"),
    ("Die Pumpe im Keller ist heiß und das ist nicht gut für den Betrieb.", "de"),
    ("La pompe est chaude et le bruit est fort dans la cave pour les gens.", "fr"),
    ("La bomba del sótano está caliente y hace mucho ruido para los vecinos.", "es"),
    ("La pompa della cantina è calda e il rumore non è piacevole per gli ospiti.", "it"),
    ("De pomp in de kelder is heet en het geluid is niet prettig voor de buren.", "nl"),
    ("A bomba do porão está quente e o barulho não é agradável para os vizinhos.", "pt"),
    ("42 17 99", "und"),
    ("", "und"),
    ("pump valve motor", "und"),
])
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_keywords_skip_stopwords_and_rank_by_frequency_then_first_appearance() -> None:
    text = "The pump and the valve. The pump failed; pump seven."
    assert keywords(text, k=3) == ["pump", "valve", "failed"]
    assert keywords("Zeta alpha zeta alpha beta.", k=8) == ["zeta", "alpha", "beta"]
    assert keywords("Is it on? Yes.", k=8) == ["yes"]
    assert keywords("", k=8) == []


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Hello   World") == content_hash("hello world\n")
    assert content_hash("Hello World") != content_hash("Hello Word")
    assert len(content_hash("x")) == 64
