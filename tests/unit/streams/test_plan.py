from datetime import UTC, datetime

import pytest

from schemas import Document, DocumentEvent, encode, message_key
from schemas.chunk import KafkaPosition
from streams.plan import plan_batch
from streams.transforms.validate import Item

pytestmark = pytest.mark.unit

T = datetime(2026, 1, 1, tzinfo=UTC)


def doc(version: int, text: str = "Alpha beta. Gamma delta.", deleted: bool = False) -> Item:
    e = DocumentEvent(event_id=f"g{version}", source="s", event_time=T,
                      payload=Document(doc_id="g", text=text, version=version, deleted=deleted))
    return Item(encode(e), message_key(e), KafkaPosition("docs", 0, version))


def plan(*items: Item):  # type: ignore[no-untyped-def]
    return plan_batch(list(items), lambda t: len(t.split()), document_topic="docs", max_bytes=10_000,
                      max_tokens=2, overlap_tokens=0)


def test_latest_version_in_a_batch_wins() -> None:
    p = plan(doc(1), doc(3, "New text here."), doc(2))
    assert [(w.doc_id, w.version) for w in p.doc_writes.values()] == [("g", 3)]
    assert p.obsolete == 2 and not p.doc_deletes


def test_delete_after_write_wins_and_write_after_delete_wins() -> None:
    assert plan(doc(1), doc(2, deleted=True)).doc_deletes == {("default", "g")}
    p = plan(doc(1, deleted=True), doc(2))
    assert not p.doc_deletes and list(p.doc_writes) == [("default", "g")]


def test_tombstone_deletes_and_bad_records_are_rejected_not_raised() -> None:
    tomb = Item(None, b"default/g", KafkaPosition("docs", 0, 9))
    bad = Item(b"{", b"k", KafkaPosition("docs", 0, 10))
    p = plan(doc(1), tomb, bad)
    assert p.doc_deletes == {("default", "g")} and not p.doc_writes
    assert [r.reason.split(":")[0] for r in p.rejected] == ["json"]


def test_every_record_remembers_its_source_item() -> None:
    item = doc(1)
    p = plan(item)
    assert p.all_records() and all(p.origin[r.uuid] is item for r in p.all_records())
