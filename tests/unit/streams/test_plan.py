from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from schemas import Document, DocumentEvent, encode, message_key
from schemas.chunk import DocState, KafkaPosition
from streams.plan import plan_batch, plan_documents
from streams.transforms.validate import Item

pytestmark = pytest.mark.unit

T = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 8, tzinfo=UTC)  # the worker's clock: every event time here is in its past


def doc(version: int, text: str = "Alpha beta. Gamma delta.", deleted: bool = False, offset: int = 0) -> Item:
    e = DocumentEvent(event_id=f"g{version}-{offset}", source="s", event_time=T,
                      payload=Document(doc_id="g", text=text, version=version, deleted=deleted))
    return Item(encode(e), message_key(e), KafkaPosition("docs", 0, offset or version))


def plan(*items: Item):  # type: ignore[no-untyped-def]
    return plan_batch(list(items), lambda t: len(t.split()), document_topic="docs", max_bytes=10_000,
                      max_tokens=2, overlap_tokens=0, now=NOW, max_clock_skew_s=300)


def resolved(*items: Item, indexed: DocState | None = None):  # type: ignore[no-untyped-def]
    p = plan(*items)
    return plan_documents(p, {("default", "g"): indexed} if indexed else {}, "m")


def test_latest_version_in_a_batch_wins() -> None:
    d = resolved(doc(1), doc(3, "New text here."), doc(2))
    assert [(w.doc_id, w.state.version) for w in d.work] == [("g", 3)]
    assert d.superseded == 2 and not d.work[0].delete_all
    assert [r.text for r in d.records()] == ["New text", "here."]


def test_delete_after_write_wins_and_write_after_delete_wins() -> None:
    assert resolved(doc(1), doc(2, deleted=True)).work[0].delete_all
    d = resolved(doc(1, deleted=True), doc(2))
    assert not d.work[0].delete_all and d.records()


def test_a_late_delete_loses_to_the_indexed_version_and_a_tombstone_remembers_its_version() -> None:
    v2 = DocState(2, content_hash="x", chunk_hashes=("a",), model_id="m")
    assert resolved(doc(1, deleted=True), indexed=v2).work == []
    tomb = DocState(5, deleted=True)
    assert resolved(doc(3, "Old text replayed."), indexed=tomb).work == []  # no resurrection
    assert resolved(doc(6, "Newer text."), indexed=tomb).records()


def test_tombstone_deletes_and_bad_records_are_rejected_not_raised() -> None:
    tomb = Item(None, b"default/g", KafkaPosition("docs", 0, 9))
    bad = Item(b"{", b"k", KafkaPosition("docs", 0, 10))
    p = plan(doc(1), tomb, bad)
    d = plan_documents(p, {}, "m")
    assert d.work[0].delete_all and not d.records()
    assert [r.reason.split(":")[0] for r in p.rejected] == ["json"]


def test_every_record_remembers_its_source_item() -> None:
    item = doc(1)
    p = plan(item)
    d = plan_documents(p, {}, "m")
    assert d.records() and all(p.origin[r.uuid] is item for r in d.records())


def test_unchanged_content_writes_nothing_and_a_shrink_deletes_the_tail() -> None:
    first = resolved(doc(1, "One two. Three four. Five six."))
    state = first.work[0].state
    assert len(first.records()) == 3
    again = resolved(doc(1, "One two. Three four. Five six.", offset=7), indexed=state)
    assert again.work == [] and again.unchanged == 1
    shrunk = resolved(doc(1, "One two. Three four.", offset=8), indexed=state)
    w = shrunk.work[0]
    assert w.records == [] and len(w.delete_ids) == 1  # same version, shorter text: the old tail goes


def test_one_changed_sentence_writes_one_chunk() -> None:
    state = resolved(doc(1, "One two. Three four. Five six.")).work[0].state
    w = resolved(doc(2, "One two. Three fore. Five six."), indexed=state).work[0]
    assert [r.text for r in w.records] == ["Three fore."] and not w.delete_ids
    # Chunks after a change of length moved: written again (their citation offsets changed), and their
    # vectors come from the embedding cache, since their text did not change.
    w = resolved(doc(3, "One two. Three seven. Five six."), indexed=state).work[0]
    assert [r.text for r in w.records] == ["Three seven.", "Five six."]


@pytest.mark.parametrize("readings", ["index", "state"])
def test_pii_in_a_device_id_or_place_never_reaches_a_stored_or_embedded_text(readings: str) -> None:
    """Texts and descriptive fields are redacted; the keys (entity and event ids) stay verbatim, since
    updates, deletes and the entity filter find a series by them."""
    from schemas import SensorEvent, SensorReading
    from streams.agents.runtime import curation
    from streams.settings import CurateSettings

    e = SensorEvent(event_id="r1", source="plant", event_time=T,
                    payload=SensorReading(device_id="meter-ann.lee@example.com", metric="power", value=3.5,
                                          unit="kW", location="desk of bob@example.org, +1 415 555 0134"))
    p = plan_batch([Item(encode(e), message_key(e), KafkaPosition("sensors", 0, 1))], lambda t: len(t.split()),
                   document_topic="docs", max_bytes=10_000, max_tokens=64, overlap_tokens=0, now=NOW,
                   max_clock_skew_s=300, curation=curation(CurateSettings(sensor_readings=readings)))
    written = p.event_records()
    assert {r.properties["record_type"] for r in written} == ({"chunk", "state"} if readings == "index" else {"state"})
    for rec in written:
        stored = " ".join(str(v) for k, v in rec.properties.items() if k not in ("entity_id", "event_id"))
        for secret in ("ann.lee@example.com", "bob@example.org", "415 555 0134"):
            assert secret not in rec.text and secret not in stored
        assert "3.5 kW" in rec.properties["text"] and "power" in rec.text


@hyp_settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["p1", "p2 in hall", "ann@example.com"]),
                                st.sampled_from(["temp", "co2"]), st.integers(0, 5),
                                st.floats(-50, 50, allow_nan=False)), min_size=1, max_size=30))
def test_state_mode_writes_the_states_index_mode_writes(steps: list[tuple[str, str, int, float]]) -> None:
    """State mode skips what only a reading object needs; the current states it writes are the same."""
    from datetime import timedelta

    from schemas import SensorEvent, SensorReading
    from streams.agents.runtime import curation
    from streams.settings import CurateSettings

    items = []
    for i, (device, metric, minute, value) in enumerate(steps):
        e = SensorEvent(event_id=f"r{i}", source="plant", event_time=T + timedelta(minutes=minute),
                        payload=SensorReading(device_id=device.split()[0], metric=metric, value=value, unit="C",
                                              location=device.partition(" ")[2]))
        received_ms = int((T + timedelta(hours=1)).timestamp() * 1000) + i  # after every event time: none clamped
        items.append(Item(encode(e), message_key(e), KafkaPosition("sensors", 0, i), received_ms))

    def states(mode: str) -> dict[str, tuple[str, dict[str, object]]]:
        p = plan_batch(items, lambda t: len(t.split()), document_topic="docs", max_bytes=10_000, max_tokens=64,
                       overlap_tokens=0, now=NOW, max_clock_skew_s=300,
                       curation=curation(CurateSettings(sensor_readings=mode)))
        return {r.uuid: (r.text, r.properties) for _, r in p.states.values()}

    assert states("state") == states("index")
