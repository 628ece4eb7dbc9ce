"""Dead letters, pure parts: redaction field by field, references (oversize, binary, refused), the
fallback of :func:`deliver`, selection for the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.dead_letter import HEAD_BYTES, dead_letter_headers, deliver, letter, redact_value, reference
from connectors.dead_letter_read import DeadLetter, select

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
    (b"[" * 5000 + b"maria@example.com", b"[" * 5000 + b"<EMAIL>"),  # too deep to parse: as text
    (b'{"n": ' + b"1" * 5000 + b', "m": "a@b.io"}', b'{"n": ' + b"1" * 5000 + b', "m": "<EMAIL>"}'),
    (b"", b""),
    (b"\xffbad maria@example.com", None),  # not UTF-8: redaction cannot read it (the caller keeps a reference)
    (b'{"m": "\\ud800 a@b.io"}', b'{"m": "\\ud800 <EMAIL>"}'),  # a lone surrogate goes back out as its escape
])
def test_redact_value_of_what_is_not_json_is_redacted_text(value: bytes, expected: bytes | None) -> None:
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


def test_reference_is_small_and_identifies_the_original() -> None:
    original = b"a" * 10_000_000
    ref = json.loads(reference(original, "oversize"))["reference"]
    assert ref == {"why": "oversize", "bytes": 10_000_000, "sha256": hashlib.sha256(original).hexdigest(),
                   "head": "a" * HEAD_BYTES}


def test_reference_head_is_escaped_redacted_and_bounded() -> None:
    original = b"\xff\xfe mail maria@example.com " + bytes(range(256)) * 10_000
    raw = reference(original, "binary", scrub)
    head = json.loads(raw)["reference"]["head"]
    assert head.startswith("\\xff\\xfe mail <EMAIL> ") and "maria" not in head
    assert len(head) == HEAD_BYTES and len(raw) < 8 * HEAD_BYTES and raw.isascii()


HEADERS = dead_letter_headers(reason="json: not UTF-8, got 'maria@example.com'", stage="validate",
                              source_topic="t.document", partition=0, offset=7)


def test_a_binary_value_is_not_inflated_by_redaction_but_kept_as_a_reference() -> None:
    original = bytes(range(128, 256)) * 12_000  # 1.5 MB, no byte of it UTF-8: U+FFFD would make it 4.6 MB
    value, headers = letter(original, b"k", HEADERS, limit=4_000_000, redact_text=scrub)
    assert value is not None and len(value) < 8 * HEAD_BYTES
    ref = json.loads(value)["reference"]
    assert (ref["why"], ref["bytes"], ref["sha256"]) == ("binary", len(original), hashlib.sha256(original).hexdigest())
    assert headers["headwater.value"] == "reference" and headers["headwater.redacted"] == "true"
    assert headers["headwater.reason"] == "json: not UTF-8, got '<EMAIL>'"
    assert letter(original, b"k", HEADERS, limit=4_000_000) == (original, HEADERS)  # not redacting: kept as it is


def test_a_value_that_redaction_grows_past_the_limit_is_a_reference() -> None:
    compact = json.dumps({"event_id": "e-1", "xs": ["a@b.io"] * 10_000}, separators=(",", ":")).encode()
    limit = len(compact) + 2000  # the original fits; redacted ("<EMAIL>", and ", " between items) it does not
    value, headers = letter(compact, b"k", HEADERS, limit=limit, redact_text=scrub)
    assert value is not None and headers["headwater.value"] == "reference"
    assert json.loads(value)["reference"]["why"] == "oversize"
    assert json.loads(value)["reference"]["bytes"] == len(compact)


def test_the_limit_counts_key_and_headers() -> None:
    headers_size = sum(len(k) + len(v.encode()) for k, v in HEADERS.items())
    exactly = 1000 + 10 + headers_size
    assert letter(b"x" * 1000, b"k" * 10, HEADERS, limit=exactly)[0] == b"x" * 1000
    assert letter(b"x" * 1000, b"k" * 11, HEADERS, limit=exactly)[1]["headwater.value"] == "reference"


def test_a_redacted_letter_keeps_ids_and_structure() -> None:
    value, headers = letter(json.dumps(EVENT).encode(), b"acme/shop", HEADERS, limit=100_000, redact_text=scrub)
    assert value is not None and "headwater.value" not in headers and headers["headwater.redacted"] == "true"
    out = json.loads(value)
    assert out["event_id"] == EVENT["event_id"] and out["payload"]["actor"] == "<EMAIL>"


class Refused(Exception):
    def __init__(self, transient: bool) -> None:
        self.transient = transient


def _deliver(original: bytes | None, refuse: list[bool], redact_text: Any = None,
             limit: int = 10_000) -> list[tuple[bytes | None, dict[str, str]]]:
    """Run :func:`deliver` against a producer that refuses the first ``len(refuse)`` sends
    (transiently or not); returns what was sent, and raises what ``deliver`` raised."""
    sent: list[tuple[bytes | None, dict[str, str]]] = []

    async def send(value: bytes | None, headers: dict[str, str]) -> int:
        sent.append((value, headers))
        if len(sent) <= len(refuse):
            raise Refused(refuse[len(sent) - 1])
        return len(sent)

    asyncio.run(deliver(send, original, b"k", HEADERS, limit=limit, redact_text=redact_text,
                        transient=lambda exc: isinstance(exc, Refused) and exc.transient))
    return sent


def test_deliver_sends_a_reference_when_kafka_refuses_the_letter_for_its_own_sake() -> None:
    original = b'{"event_id": "e-1", "text": "maria@example.com"}'
    first, second = _deliver(original, [False], scrub)
    assert first[0] == b'{"event_id": "e-1", "text": "<EMAIL>"}'
    assert second[1]["headwater.value"] == "reference" and second[1]["headwater.redacted"] == "true"
    assert second[0] is not None and json.loads(second[0])["reference"]["why"] == "refused"
    assert b"maria" not in second[0] and "maria" not in second[1]["headwater.reason"]


def test_deliver_raises_transient_errors_and_a_refused_reference() -> None:
    with pytest.raises(Refused):
        _deliver(b"{}", [True])  # Kafka's trouble, not the record's: the caller retries
    with pytest.raises(Refused):
        _deliver(b"{}", [False, False])  # even the reference: not the record's either
    with pytest.raises(Refused):
        _deliver(b"x" * 20_000, [False])  # already a reference (oversize): nothing smaller to send


def test_deliver_keeps_a_reference_when_redaction_itself_fails() -> None:
    def broken(text: str) -> str:
        raise RuntimeError("recognizer crashed")

    [(value, headers)] = _deliver(b"maria@example.com", [], broken)
    assert value is not None and json.loads(value)["reference"]["why"] == "unreadable"
    assert json.loads(value)["reference"]["head"] == "" and headers["headwater.reason"].startswith("json: ")
    assert "maria" not in headers["headwater.reason"]


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
