import json

import pytest

from schemas import InvalidEvent, SensorEvent, decode, encode, message_key

pytestmark = pytest.mark.unit

BASE = {"event_id": "e1", "source": "gw", "tenant": "acme", "event_time": "2026-01-01T00:00:00+01:00"}


def raw(**over: object) -> bytes:
    return json.dumps({**BASE, "kind": "sensor",
                       "payload": {"device_id": "p7", "metric": "t", "value": 1.5}, **over}).encode()


def test_round_trip() -> None:
    e = decode(raw())
    assert isinstance(e, SensorEvent) and e.payload.value == 1.5
    assert decode(encode(e)) == e


@pytest.mark.parametrize(("over", "loc"), [
    ({"payload": {"device_id": "p7", "metric": "t", "value": "hot"}}, "payload.value"),
    ({"payload": {"device_id": "p7", "metric": "t", "value": float("nan")}}, "payload.value"),
    ({"payload": {"metric": "t", "value": 1}}, "payload.device_id"),
    ({"event_time": "2026-01-01T00:00:00"}, "event_time"),
    ({"tenant": "no spaces"}, "tenant"),
    ({"extra": 1}, "extra"),
    ({"kind": "document", "payload": {"doc_id": "d", "text": " "}}, "payload"),
])
def test_invalid_fields_are_named(over: dict[str, object], loc: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(raw(**over))
    assert any(e["loc"] == loc for e in info.value.errors), info.value.errors
    assert loc in info.value.reason


def test_deleted_document_needs_no_text() -> None:
    e = decode(raw(kind="document", payload={"doc_id": "d", "deleted": True}))
    assert e.payload.deleted  # type: ignore[union-attr]


def test_message_key_groups_one_entity_of_one_tenant() -> None:
    a, b = decode(raw()), decode(raw(event_id="e2"))
    assert message_key(a) == message_key(b) == b"acme/p7"
