import json
from datetime import UTC, datetime

import pytest

from schemas import (
    AppEventEnvelope,
    DocumentEvent,
    InvalidEvent,
    SensorEvent,
    decode,
    encode,
    entity_id,
    message_key,
    stamp,
)

pytestmark = pytest.mark.unit

BASE = {"event_id": "e1", "source": "gw", "tenant": "acme", "event_time": "2026-01-01T00:00:00+01:00"}
PAYLOADS = {
    "sensor": {"device_id": "p7", "metric": "t", "value": 1.5},
    "app": {"app": "shop", "action": "refund", "actor": "maria", "attributes": {"eur": 20, "vip": True}},
    "document": {"doc_id": "guide", "title": "Guide", "text": "Hello.", "version": 3},
}


def raw(kind: str = "sensor", **over: object) -> bytes:
    return json.dumps({**BASE, "kind": kind, "payload": PAYLOADS[kind], **over}).encode()


@pytest.mark.parametrize(("kind", "model", "entity"), [
    ("sensor", SensorEvent, "p7"), ("app", AppEventEnvelope, "shop"), ("document", DocumentEvent, "guide")])
def test_valid_events_of_each_kind_parse_and_round_trip(kind: str, model: type, entity: str) -> None:
    e = decode(raw(kind))
    assert isinstance(e, model) and e.tenant == "acme" and e.schema_version == 1
    assert e.event_time == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert entity_id(e) == entity
    assert decode(encode(e)) == e


def test_tenant_defaults_and_deleted_document_needs_no_text() -> None:
    e = decode(json.dumps({**BASE, "tenant": "default", "kind": "document",
                           "payload": {"doc_id": "d", "deleted": True}}).encode())
    assert isinstance(e, DocumentEvent) and e.payload.deleted and e.tenant == "default"


@pytest.mark.parametrize(("kind", "over", "loc"), [
    ("sensor", {"payload": {"device_id": "p7", "metric": "t", "value": "hot"}}, "payload.value"),
    ("sensor", {"payload": {"device_id": "p7", "metric": "t", "value": float("nan")}}, "payload.value"),
    ("sensor", {"payload": {"metric": "t", "value": 1}}, "payload.device_id"),
    ("sensor", {"event_time": "2026-01-01T00:00:00"}, "event_time"),
    ("sensor", {"event_time": "yesterday"}, "event_time"),
    ("sensor", {"tenant": "no spaces"}, "tenant"),
    ("sensor", {"event_id": "  "}, "event_id"),
    ("sensor", {"schema_version": "one"}, "schema_version"),
    ("app", {"payload": {"app": "shop"}}, "payload.action"),
    ("app", {"payload": {"app": "shop", "action": "a", "attributes": {"deep": {"x": 1}}}},
     "payload.attributes"),
    ("document", {"payload": {"doc_id": "d", "text": " "}}, "payload"),
    ("document", {"payload": {"doc_id": "d", "text": "t", "version": -1}}, "payload.version"),
])
def test_invalid_fields_are_named(kind: str, over: dict[str, object], loc: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(raw(kind, **over))
    assert info.value.reason.startswith("schema: ")
    locs = [e["loc"] for e in info.value.errors]
    assert any(x == loc or x.startswith(loc + ".") for x in locs), locs
    assert loc in info.value.reason


@pytest.mark.parametrize(("value", "prefix"), [
    (None, "empty: "),
    (b"x" * 1001, "oversize: the event is 1001 bytes, more than the limit of 1000 bytes"),
    (b"{oops", "json: "),
    (b"\xff\xfe", "json: not UTF-8"),
])
def test_unreadable_records_say_why(value: bytes | None, prefix: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(value, max_bytes=1000)
    assert info.value.reason.startswith(prefix), info.value.reason
    assert info.value.errors


def test_message_key_groups_one_entity_of_one_tenant() -> None:
    a, b = decode(raw(event_id="e1")), decode(raw(event_id="e2"))
    other_tenant = decode(raw(tenant="beta"))
    assert message_key(a) == message_key(b) == b"acme/p7"
    assert message_key(other_tenant) == b"beta/p7"
    assert message_key(decode(raw("document"))) == b"acme/guide"


def test_stamp_sets_ingest_time_once() -> None:
    now, later = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    stamped = stamp(decode(raw()), now)
    assert stamped.ingest_time == now and stamp(stamped, later).ingest_time == now


def test_an_added_optional_field_validates_within_the_version() -> None:
    """Additive changes stay within a schema version: unknown fields are ignored, known ones stay strict."""
    over = {"firmware": "2.1", "payload": {**PAYLOADS["sensor"], "battery": 0.8}}
    e = decode(raw(**over))
    assert isinstance(e, SensorEvent) and e.payload.value == 1.5
    assert "firmware" not in encode(e).decode() and "battery" not in encode(e).decode()
    for kind in ("app", "document"):
        assert decode(raw(kind, added={"any": ["shape"]}, payload={**PAYLOADS[kind], "new": 1}))
    with pytest.raises(InvalidEvent):  # ignoring unknown fields does not loosen the known ones
        decode(raw(payload={**PAYLOADS["sensor"], "value": "hot", "battery": 0.8}))


_ONE = json.dumps({**BASE, "kind": "sensor", "payload": PAYLOADS["sensor"]})


@pytest.mark.parametrize(("value", "reason"), [
    (b"[" * 200_000, "json: nesting too deep"),
    (b'{"a": ' + b"1" * 5000 + b"}", "json: number too large"),
    (_ONE.replace("1.5", "1" * 5000).encode(), "json: number too large"),
    (b"\xc3\x28", "json: not UTF-8 (bad byte at offset 0)"),
    (b"\x00", "json: "),
    (_ONE.encode() + b"\x00", "json: "),
    ('{\x00}'.encode("utf-16-le"), "json: "),  # json.loads alone would read this as UTF-16 {}
    (b"{}", "schema: kind: field required (one of sensor, app, document)"),
    (b"[1, 2]", "schema: expected a JSON object, got array"),
    (b'"event"', "schema: expected a JSON object, got string"),
    (b"42", "schema: expected a JSON object, got number"),
    (b"null", "schema: expected a JSON object, got null"),
    (json.dumps({**BASE, "kind": "video", "payload": {}}).encode(),
     "schema: kind: 'video' is not an event kind (one of sensor, app, document)"),
    (raw(schema_version=2),
     "schema: schema_version 2 is not supported by this Headwater (supports 1); upgrade the worker"),
    (json.dumps({"kind": "sensor"}).encode(), "schema: "),
    (b" " * 10_000_001, "oversize: the event is 10000001 bytes, more than the limit of 4000000 bytes "
                        "(max_event_bytes, HEADWATER_KAFKA__MAX_EVENT_BYTES)"),
])
def test_hostile_values_become_one_line_reasons(value: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(value)
    assert info.value.reason.startswith(reason), info.value.reason
    assert "\n" not in info.value.reason and len(info.value.reason) < 1200
    assert info.value.errors


def test_missing_fields_are_all_named() -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(json.dumps({"kind": "sensor"}).encode())
    assert {e["loc"] for e in info.value.errors} >= {"event_id", "source", "event_time", "payload"}


def test_a_document_text_never_exceeds_the_byte_limit_in_characters() -> None:
    from schemas import MAX_EVENT_BYTES, Document

    assert Document.model_fields["text"].metadata[0].max_length <= MAX_EVENT_BYTES
