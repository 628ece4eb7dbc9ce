"""Dead letters, pure parts: redaction field by field, the oversize reference, selection for the CLI."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.dead_letter import DeadLetter, dead_letter_headers, oversize_reference, redact_value, select

pytestmark = pytest.mark.unit

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def scrub(text: str) -> str:
    return EMAIL.sub("<EMAIL>", text)


EVENT = {
    "schema_version": 1, "kind": "app", "event_id": "maria@example.com-1", "source": "crm", "tenant": "acme",
    "event_time": "2026-01-01T00:00:00Z", "ingest_time": "2026-01-01T00:00:01Z",
    "payload": {"app": "shop", "action": "refund", "actor": "maria@example.com",
                "message": "Refund for maria@example.com, call back", "attributes": {"eur": 20, "to": "a@b.io"},
                "tags": ["x@y.org", "plain"]},
}


def test_redact_value_keeps_ids_and_redacts_the_rest() -> None:
    out = json.loads(redact_value(json.dumps(EVENT).encode(), scrub))
    assert {k: out[k] for k in ("event_id", "source", "tenant", "event_time", "kind", "schema_version")} == \
        {k: EVENT[k] for k in ("event_id", "source", "tenant", "event_time", "kind", "schema_version")}
    p = out["payload"]
    assert (p["app"], p["action"]) == ("shop", "refund")
    assert p["message"] == "Refund for <EMAIL>, call back" and p["actor"] == "<EMAIL>"
    assert p["attributes"] == {"eur": 20, "to": "<EMAIL>"} and p["tags"] == ["<EMAIL>", "plain"]


def test_redact_value_of_a_document_keeps_its_routing_fields() -> None:
    doc = {"kind": "document", "payload": {"doc_id": "d@x.io", "version": 3, "deleted": False,
                                           "uri": "mailto:d@x.io", "content_type": "text/plain",
                                           "text": "mail d@x.io", "title": "d@x.io"}}
    p = json.loads(redact_value(json.dumps(doc).encode(), scrub))["payload"]
    assert (p["doc_id"], p["uri"], p["version"], p["deleted"]) == ("d@x.io", "mailto:d@x.io", 3, False)
    assert p["text"] == "mail <EMAIL>" and p["title"] == "<EMAIL>"


@pytest.mark.parametrize(("value", "expected"), [
    (b"mail maria@example.com now", b"mail <EMAIL> now"),
    (b"\xffbad maria@example.com", "\ufffdbad <EMAIL>".encode()),
    (b"[" * 5000 + b"maria@example.com", b"[" * 5000 + b"<EMAIL>"),  # too deep to parse: as text
    (b'{"n": ' + b"1" * 5000 + b', "m": "a@b.io"}', b'{"n": ' + b"1" * 5000 + b', "m": "<EMAIL>"}'),
    (None, b""),
])
def test_redact_value_of_what_is_not_json_is_redacted_text(value: bytes | None, expected: bytes) -> None:
    assert redact_value(value, scrub) == expected


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                 max_size=3), max_leaves=20))
def test_redact_value_keeps_the_structure(obj: object) -> None:
    out = json.loads(redact_value(json.dumps(obj).encode(), lambda s: "R"))
    assert _shape(out) == _shape(obj)


def _shape(node: object) -> object:
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return type(node).__name__


def test_oversize_reference_is_small_and_identifies_the_original() -> None:
    original = b"a" * 10_000_000
    ref = json.loads(oversize_reference(original))["oversize"]
    assert ref["bytes"] == 10_000_000 and ref["sha256"] == hashlib.sha256(original).hexdigest()
    assert ref["head"] == "a" * 512


def _letter(offset: int, reason: str, stage: str, topic: str, when: datetime) -> DeadLetter:
    headers = dead_letter_headers(reason=reason, stage=stage, source_topic=topic, now=when)
    return DeadLetter(0, offset, 0, None, b"{}", headers)


def test_select_filters_by_reason_stage_topic_and_time() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    letters = [_letter(0, "json: nesting too deep", "mqtt", "", t0),
               _letter(1, "schema: payload.value: Input should be a valid number", "validate", "t.sensor",
                       t0.replace(day=2)),
               _letter(2, "oversize: the payload is 5 bytes", "mqtt", "", t0.replace(day=3))]
    assert [d.offset for d in select(letters, reason="NESTING")] == [0]
    assert [d.offset for d in select(letters, stage="mqtt")] == [0, 2]
    assert [d.offset for d in select(letters, topic="t.sensor")] == [1]
    assert [d.offset for d in select(letters, since=t0.replace(day=2))] == [1, 2]
    assert [d.offset for d in select(letters)] == [0, 1, 2]
    assert letters[1].time == t0.replace(day=2) and letters[1].stage == "validate"
