from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas import Document, DocumentEvent, encode, message_key
from schemas.chunk import KafkaPosition
from streams.transforms.chunk import Chunk
from streams.transforms.enrich import enrich
from streams.transforms.fingerprint import chunk_fingerprint
from streams.transforms.render import render

pytestmark = pytest.mark.unit
T = datetime(2026, 1, 1, tzinfo=UTC)


def event(readers: list[str]) -> DocumentEvent:
    return DocumentEvent(event_id="e", source="s", event_time=T, readers=readers,
                         payload=Document(doc_id="d", text="Alpha beta gamma delta."))


def records(readers: list[str]) -> list[object]:
    e = event(readers)
    return enrich(e, render(e), [Chunk(0, "Alpha beta gamma delta.", 0, 23, "")], KafkaPosition("t", 0, 1))


def test_chunks_carry_the_readers_or_everyone() -> None:
    assert records([])[0].properties["readers"] == ["*"]  # type: ignore[attr-defined]
    assert records(["principal:x", "group:hr", "group:hr"])[0].properties["readers"] == [  # type: ignore[attr-defined]
        "group:hr", "principal:x"]


def test_an_acl_change_changes_the_fingerprint() -> None:
    a, b = records([])[0], records(["group:hr"])[0]
    assert chunk_fingerprint(a, "m") != chunk_fingerprint(b, "m")  # type: ignore[arg-type]
    assert chunk_fingerprint(a, "m") == chunk_fingerprint(records([])[0], "m")  # type: ignore[arg-type]


def test_reader_tags_are_validated_and_old_events_decode() -> None:
    with pytest.raises(ValidationError):
        event(["hr"])
    old = event([]).model_dump(mode="json")
    del old["readers"]
    assert DocumentEvent.model_validate(old).readers == []
    assert message_key(event(["group:hr"])) == b"default/d" and encode(event(["group:hr"]))
