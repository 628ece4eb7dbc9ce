"""The independent oracle on its own: the log's rules, and each kind of difference it must find.

Stored objects are written here by hand, as Weaviate would return them, so that a finding
that the oracle misses, or one it makes up, shows without a worker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas import AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading
from streams.harness.oracle import Diff, Tombstone, compare, expected, normalized, object_id

pytestmark = pytest.mark.unit
T0 = datetime(2026, 3, 1, tzinfo=UTC)
TEXT = "The river is wide. Boats cross it at dawn. The ferry holds 40 cars. It was built in 1961."


def doc(doc_id: str, text: str = TEXT, version: int = 1, deleted: bool = False, n: int = 0) -> DocumentEvent:
    return DocumentEvent(event_id=f"{doc_id}-{n}", source="t", tenant="t", event_time=T0,
                         payload=Document(doc_id=doc_id, text=text, version=version, deleted=deleted))


def app(event_id: str, message: str) -> AppEventEnvelope:
    return AppEventEnvelope(event_id=event_id, source="t", tenant="t", event_time=T0,
                            payload=AppEvent(app="vault", action="changed", message=message))


def reading(event_id: str, value: float, minute: int) -> SensorEvent:
    return SensorEvent(event_id=event_id, source="t", tenant="t", event_time=T0 + timedelta(minutes=minute),
                       payload=SensorReading(device_id="p1", metric="temperature", value=value))


def chunk(doc_id: str, index: int, text: str, kind: str = "document") -> dict[str, Any]:
    key = doc_id
    return {"uuid": object_id("t", kind, key, index), "kind": kind, "record_type": "chunk", "chunk_index": index,
            "doc_id": doc_id if kind == "document" else "", "event_id": key if kind != "document" else f"{key}-0",
            "text": text, "value": 0.0}


def diff(log: list[Any], objects: list[dict[str, Any]], **kw: bool) -> Diff:
    return compare(expected(log, **kw), {"t": objects})


# --- the log's rules ---------------------------------------------------------------------------------

def test_the_highest_version_wins_and_equal_versions_go_to_the_later_record() -> None:
    want = expected([doc("a", "Version two.", 2, n=1), doc("a", "Version one.", 1, n=2),
                     doc("b", "First."), doc("b", "Second.", n=3)])
    assert want.live[("t", "document", "a")].text == "Version two."
    assert want.live[("t", "document", "b")].text == "Second."


def test_a_late_delete_loses_a_tombstone_deletes_and_an_older_replay_cannot_resurrect() -> None:
    assert ("t", "document", "a") in expected([doc("a", version=2), doc("a", "", 1, deleted=True)]).live
    gone = expected([doc("a", version=2), Tombstone("t", "a"), doc("a", version=1)])
    assert ("t", "document", "a") in gone.deleted and ("t", "document", "a") not in gone.live
    # a tombstone deletes at the version last seen: that version re-sent is an update again
    assert ("t", "document", "a") in expected([doc("a", version=2), Tombstone("t", "a"), doc("a", version=2)]).live


def test_a_state_is_the_latest_reading_of_equal_times_the_later() -> None:
    want = expected([reading("r1", 81, 10), reading("r2", 20, 5), reading("r3", 30, 10)])
    assert want.live[("t", "state", "p1/temperature")].event_id == "r3"
    assert len([k for k in want.live if k[1] == "sensor"]) == 3
    assert not [k for k in expected([reading("r1", 1, 1)], readings=False).live if k[1] == "sensor"]


def test_normalized_text_ignores_case_punctuation_spacing_and_how_an_email_was_redacted() -> None:
    assert normalized("The  Code, is\n4471!") == normalized("the code is 4471")
    assert normalized("Write to bob@example.com.") == normalized("write to [EMAIL]")
    assert normalized("code 4471") != normalized("code 9902")


# --- what compare finds ------------------------------------------------------------------------------

def test_overlapping_chunks_that_cover_the_text_are_clean_and_a_redacted_email_matches() -> None:
    text = TEXT + " Write to bob@example.com for tickets."
    stored = [chunk("a", 0, "The river is wide. Boats cross it at dawn."),
              chunk("a", 1, "Boats cross it at dawn. The ferry holds 40 cars. It was built in 1961."),
              chunk("a", 2, "Write to [EMAIL] for tickets.")]
    assert diff([doc("a", text)], stored).clean


def test_a_repeated_sentence_may_be_cut_into_equal_chunks_of_one_document() -> None:
    again = "Row the boat. Row the boat. Row the boat."
    assert diff([doc("a", again)], [chunk("a", 0, "Row the boat. Row the boat."),
                                    chunk("a", 1, "Row the boat. Row the boat.")]).clean


def test_words_no_chunk_holds_are_missing_and_so_is_an_entity_with_nothing_stored() -> None:
    d = diff([doc("a"), doc("b", "Another text entirely, with words of its own.")],
             [chunk("a", 0, "The river is wide. Boats cross it at dawn.")])
    assert d.counts() == {"missing": 2, "stale": 0, "orphan": 0, "duplicate": 0}
    assert "ferry holds 40 cars" in d.missing[0] and "t/document/b: nothing stored" in d.missing[1]


def test_a_chunk_of_an_older_version_or_of_a_deleted_document_is_stale() -> None:
    shrunk = diff([doc("a", "Long text. " + TEXT), doc("a", "The river is wide.", n=1)],
                  [chunk("a", 0, "The river is wide."), chunk("a", 1, "Boats cross it at dawn.")])
    assert shrunk.counts()["stale"] == 1 and "#1" in shrunk.stale[0]
    left_over = diff([doc("a", "The river is wide. Boats cross it at dawn.")],
                     [chunk("a", 0, "The river is wide. Boats cross it at dawn."), chunk("a", 1, "Boats cross it")])
    assert left_over.counts()["stale"] == 1  # inside the text, but behind the chunk before it: not a new cut
    deleted = diff([doc("a"), doc("a", "", 2, deleted=True)], [chunk("a", 0, TEXT)])
    assert deleted.counts() == {"missing": 0, "stale": 1, "orphan": 0, "duplicate": 0}


def test_an_entity_the_log_never_had_or_an_undocumented_id_is_an_orphan() -> None:
    stray = chunk("zzz", 0, "Nobody sent this.")
    wrong_id = chunk("a", 0, TEXT) | {"uuid": object_id("t", "document", "a", 7)}
    d = diff([doc("a")], [stray, wrong_id])
    assert d.counts() == {"missing": 1, "stale": 0, "orphan": 2, "duplicate": 0}


def test_one_fact_under_two_entities_is_a_duplicate_and_once_is_enough() -> None:
    log = [doc("a"), doc("b", TEXT.upper())]  # the same normalized text
    assert diff(log, [chunk("a", 0, TEXT)]).clean
    assert diff(log, [chunk("b", 0, TEXT.upper())]).clean
    assert diff(log, [chunk("a", 0, TEXT), chunk("b", 0, TEXT.upper())]).counts()["duplicate"] == 1
    shared = diff([doc("a", TEXT + " More about a."), doc("b", TEXT + " More about b.")],
                  [chunk("a", 0, TEXT), chunk("a", 1, "More about a."), chunk("b", 0, TEXT),
                   chunk("b", 1, "More about b.")])
    assert shared.counts() == {"missing": 0, "stale": 0, "orphan": 0, "duplicate": 1}
    # the copy stored once, under one of them, covers the other's words
    assert diff([doc("a", TEXT + " More about a."), doc("b", TEXT + " More about b.")],
                [chunk("a", 0, TEXT), chunk("a", 1, "More about a."), chunk("b", 1, "More about b.")]).clean


def test_an_app_fact_that_differs_in_one_number_is_its_own_fact() -> None:
    log = [app("e1", "The access code of vault 7 was changed to 4471."),
           app("e2", "The access code of vault 7 was changed to 9902.")]
    frame = "Someone changed in vault at 2026-03-01 00:00 UTC: "
    both = [chunk(e.event_id, 0, frame + e.payload.message, "app") for e in log]
    assert diff(log, both).clean
    d = diff(log, both[:1])  # the one-fact variant dropped as a near copy: a lost fact
    assert d.counts()["missing"] == 1 and "e2" in d.missing[0]
    wrong = diff(log[:1], [chunk("e1", 0, frame + "The access code of vault 7 was changed to 9902.", "app")])
    assert wrong.counts()["missing"] == 1 and "4471" in wrong.missing[0]


def test_a_reading_shows_its_value_and_a_state_the_latest_reading() -> None:
    log = [reading("r1", 81, 10), reading("r2", 20, 5)]
    state = {"uuid": object_id("t", "sensor-state", "p1/temperature", 0), "kind": "sensor", "record_type": "state",
             "chunk_index": 0, "device_id": "p1", "metric": "temperature", "text": "", "event_time": T0}
    readings = [chunk("r1", 0, "", "sensor") | {"value": 81.0}, chunk("r2", 0, "", "sensor") | {"value": 20.0}]
    latest = state | {"event_id": "r1", "value": 81.0, "event_time": T0 + timedelta(minutes=10)}
    assert diff(log, [*readings, latest]).clean
    moved_back = diff(log, [*readings, state | {"event_id": "r2", "value": 20.0}])
    assert moved_back.counts() == {"missing": 0, "stale": 1, "orphan": 0, "duplicate": 0}
    assert diff(log, [readings[0] | {"value": 80.0}, readings[1], latest]).counts()["stale"] == 1
    assert diff(log, [latest], readings=False).clean
    assert diff(log, [*readings, latest], readings=False).counts()["orphan"] == 2
