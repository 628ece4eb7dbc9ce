"""HTTP ingest bodies: parsing (JSON, array, NDJSON), all-or-nothing validation, hostile bodies (pure)."""

from __future__ import annotations

import json
import re

import pytest

from connectors.http_body import BadBody, LineError, oversize, parse_body, validate_items
from tests.unit.connectors.http_kit import sensor

pytestmark = pytest.mark.unit


def test_one_object() -> None:
    assert parse_body(json.dumps(sensor()).encode(), "application/json") == [sensor()]


def test_array() -> None:
    body = json.dumps([sensor(1), sensor(2)]).encode()
    assert parse_body(body, "application/json; charset=utf-8") == [sensor(1), sensor(2)]


def test_ndjson_skips_blank_lines_and_marks_bad_ones() -> None:
    body = (json.dumps(sensor(1)) + "\n\n{oops\n" + json.dumps(sensor(2)) + "\n").encode()
    items = parse_body(body, "application/x-ndjson")
    assert items[0] == sensor(1) and items[2] == sensor(2)
    assert isinstance(items[1], LineError) and "line 3" in items[1].msg


@pytest.mark.parametrize(("body", "content_type", "reason"), [
    (b"{oops", "application/json", "not JSON"),
    (b"[]", "application/json", "no events"),
    (b"\n\n", "application/x-ndjson", "no events"),
    (b"\xff", "application/json", "not UTF-8"),
])
def test_bad_bodies(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(BadBody, match=reason):
        parse_body(body, content_type)


def test_validate_items_reports_each_invalid_item_with_field_paths() -> None:
    items = [sensor(0), sensor(1, value="hot"), 42, LineError("line 4 is not JSON"), sensor(4)]
    events, problems = validate_items(items)
    assert [e.event_id for e in events] == ["e0", "e4"]
    assert [p["index"] for p in problems] == [1, 2, 3]
    assert problems[0]["errors"][0]["loc"] == "payload.value"
    assert problems[2]["errors"] == [{"loc": "", "msg": "line 4 is not JSON"}]


def test_validate_items_all_valid() -> None:
    events, problems = validate_items([sensor(0), sensor(1)])
    assert len(events) == 2 and problems == []


@pytest.mark.parametrize(("body", "reason"), [
    (b"[" * 200_000, "json: nesting too deep"),
    (b'{"value": ' + b"1" * 5000 + b"}", "json: number too large (5000 digits) at line 1 column 11"),
])
def test_hostile_json_bodies_are_bad_bodies_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BadBody, match=re.escape(reason)):
        parse_body(body, "application/json")


def test_hostile_ndjson_lines_name_their_line() -> None:
    body = (json.dumps(sensor(1)) + "\n" + "[" * 200_000 + "\n" + "1" * 5000 + "\n").encode()
    items = parse_body(body, "application/x-ndjson")
    assert items[0] == sensor(1)
    assert isinstance(items[1], LineError) and items[1].msg == "line 2 is not JSON: json: nesting too deep"
    assert isinstance(items[2], LineError) and items[2].msg.startswith("line 3 is not JSON: json: number too large")


def test_oversize_names_the_item_the_limit_and_the_setting() -> None:
    assert oversize([10, 20], 20) is None
    detail = oversize([10, 21, 30], 20)
    assert detail is not None and detail.startswith("oversize: event 1 is 21 bytes, more than the limit of 20")
    assert "(1 more too)" in detail and "HEADWATER_KAFKA__MAX_EVENT_BYTES" in detail


def test_an_added_field_is_accepted() -> None:
    events, problems = validate_items([sensor(0, battery=0.8) | {"firmware": "2.1"}])
    assert len(events) == 1 and problems == []
