import json

import pytest

from schemas import SensorEvent
from schemas.chunk import KafkaPosition
from streams.transforms.validate import Item, Rejected, Tombstone, stamped, validate

pytestmark = pytest.mark.unit

DOCS = "docs"
GOOD = {"event_id": "e1", "kind": "sensor", "source": "s", "event_time": "2026-01-01T00:00:00Z",
        "payload": {"device_id": "pump-7", "metric": "temperature", "value": 81.2, "unit": "C"}}


def _item(value: bytes | None, key: bytes | None = b"default/pump-7", topic: str = "in", ts: int | None = None) -> Item:
    return Item(value, key, KafkaPosition(topic, 1, 42), ts)


def test_valid_event_is_stamped_with_kafka_time_when_missing() -> None:
    item = _item(json.dumps(GOOD).encode(), ts=1_767_225_600_000)
    out = validate(item, DOCS, 10_000)
    assert isinstance(out, SensorEvent)
    out = stamped(out, item)
    assert out.ingest_time is not None and out.ingest_time.year == 2026
    again = stamped(out, _item(json.dumps(GOOD).encode(), ts=1_800_000_000_000))
    assert again.ingest_time == out.ingest_time  # a producer's (or an earlier) stamp is kept


@pytest.mark.parametrize(("value", "prefix", "field"), [
    (b"{oops", "json:", ""),
    (b"[1, 2]", "schema:", ""),
    (json.dumps({**GOOD, "payload": {**GOOD["payload"], "value": "hot"}}).encode(), "schema:", "payload.value"),
    (json.dumps({**GOOD, "event_time": "2026-01-01T00:00:00"}).encode(), "schema:", "event_time"),
    (json.dumps({**GOOD, "kind": "video"}).encode(), "schema:", ""),
    (b"x" * 20_000, "oversize:", ""),
    (None, "empty:", ""),
])
def test_bad_records_are_rejected_with_reason(value: bytes | None, prefix: str, field: str) -> None:
    out = validate(_item(value), DOCS, 10_000)
    assert isinstance(out, Rejected)
    assert out.reason.startswith(prefix)
    assert field in out.reason
    assert out.stage == "validate"


def test_null_on_document_topic_is_a_tombstone() -> None:
    out = validate(_item(None, b"acme/handbook", topic=DOCS), DOCS, 10_000)
    assert out == Tombstone(_item(None, b"acme/handbook", topic=DOCS), "acme", "handbook")


def test_tombstone_with_unusable_key_is_rejected() -> None:
    out = validate(_item(None, b"handbook", topic=DOCS), DOCS, 10_000)
    assert isinstance(out, Rejected) and "tombstone" in out.reason
