"""HTTP ingest: body parsing (JSON, array, NDJSON), all-or-nothing validation, hostile bodies (no Kafka needed)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.config import HttpIngestSettings, KafkaSettings, TopicSettings
from connectors.http_source import BadBody, LineError, create_ingest_api, oversize, parse_body, validate_items
from connectors.producer import Producer

pytestmark = pytest.mark.unit


def sensor(i: int = 0, **payload: Any) -> dict[str, Any]:
    return {"kind": "sensor", "event_id": f"e{i}", "source": "test", "event_time": "2026-01-01T00:00:00Z",
            "payload": {"device_id": "d", "metric": "m", "value": 1.0} | payload}


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


# --- the app on hostile bodies: a clear 4xx, never a 500 (validation fails before any produce) ---

LIMIT = 50_000


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    # Nowhere to send to: a test that wrongly gets as far as producing fails fast with a 503.
    producer = Producer(KafkaSettings(bootstrap_servers="127.0.0.1:1", max_event_bytes=LIMIT), message_timeout_ms=2000)
    yield create_ingest_api(_Settings(), producer)
    producer.close()


class _Settings:
    http = HttpIngestSettings(max_body_bytes=200_000)
    topics = TopicSettings()


def _post(app: Any, body: bytes, content_type: str = "application/json") -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as client:
            return await client.post("/v1/events", content=body, headers={"Content-Type": content_type})

    return asyncio.run(go())


def _doc(text: str) -> dict[str, Any]:
    return {"kind": "document", "event_id": "d1", "source": "t", "event_time": "2026-01-01T00:00:00Z",
            "payload": {"doc_id": "d", "text": text}}


def _body_of(size: int) -> bytes:
    """A document body of exactly ``size`` bytes (its stamped event, with defaults, is larger)."""
    empty = len(json.dumps(_doc("")))
    return json.dumps(_doc("x" * (size - empty))).encode()


@pytest.mark.parametrize(("body", "content_type", "status", "says"), [
    (b"[" * 150_000, "application/json", 400, "nesting too deep"),
    (b'{"value": ' + b"1" * 5000 + b"}", "application/json", 400, "number too large"),
    (b"\xff\xfe", "application/json", 400, "not UTF-8"),
    (b"\x00", "application/json", 400, "not JSON"),
    (b'"just a string"', "application/json", 422, "expected an object"),
    (b"[1, null, []]", "application/json", 422, "expected an object"),
    (b"{}", "application/json", 422, "kind"),
    (json.dumps(sensor(0) | {"schema_version": 2}).encode(), "application/json", 422, "upgrade the worker"),
    (("[" * 150_000 + "\n").encode(), "application/x-ndjson", 422, "line 1 is not JSON: json: nesting too deep"),
    (json.dumps(_doc("x" * (LIMIT + 1))).encode(), "application/json", 413, "HEADWATER_KAFKA__MAX_EVENT_BYTES"),
    (_body_of(LIMIT), "application/json", 413, "oversize: event 0 is"),  # the body fits, its event does not
    (b" " * 200_001, "application/json", 413, "HEADWATER_HTTP__MAX_BODY_BYTES"),
])
def test_hostile_bodies_get_a_reason_never_a_500(app: Any, body: bytes, content_type: str, status: int,
                                                 says: str) -> None:
    r = _post(app, body, content_type)
    assert r.status_code == status, r.text
    assert says in r.text


# --- per-key auth: refused before anything is produced (the producer points nowhere) ---


def _authorizing_app(app_producer: Any) -> Any:
    from schemas.access import Principal

    keys = {"a-key": Principal(name="alice", tenants=("a",), scopes=frozenset({"ingest"})),
            "s-key": Principal(name="sam", tenants=("a",), scopes=frozenset({"search"}))}
    return create_ingest_api(_Settings(), app_producer, authorize=lambda token: keys.get(token or ""))


def _post_as(app: Any, body: Any, key: str | None) -> httpx.Response:
    async def go() -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as client:
            return await client.post("/v1/events", json=body, headers=headers)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def authorizing() -> Iterator[Any]:
    producer = Producer(KafkaSettings(bootstrap_servers="127.0.0.1:1"), message_timeout_ms=2000)
    yield _authorizing_app(producer)
    producer.close()


def test_without_a_valid_key_ingest_is_401_and_audited(authorizing: Any, caplog: pytest.LogCaptureFixture) -> None:
    for key in (None, "wrong"):
        r = _post_as(authorizing, _doc("hello there world"), key)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    audits = [json.loads(r.getMessage()) for r in caplog.records if r.name == "headwater.audit.access"]
    assert [(a["who"], a["outcome"], a["status"]) for a in audits] == [("anonymous", "denied", 401)] * 2
    assert "wrong" not in caplog.text


def test_a_key_without_the_ingest_scope_is_403(authorizing: Any) -> None:
    r = _post_as(authorizing, _doc("hello there world"), "s-key")
    assert r.status_code == 403 and "'ingest' scope" in r.text


def test_one_foreign_tenant_refuses_the_whole_request_and_names_it(authorizing: Any,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    mine = _doc("hello there world") | {"tenant": "a"}
    delete = {**_doc(""), "tenant": "b", "event_id": "d2", "payload": {"doc_id": "d", "deleted": True}}
    r = _post_as(authorizing, [mine, delete], "a-key")
    assert r.status_code == 403, r.text
    assert r.json()["detail"] == [{"index": 1, "tenant": "b", "msg": "key 'alice' may not write tenant 'b'"}]
    audits = [json.loads(r.getMessage()) for r in caplog.records if r.name == "headwater.audit.access"]
    assert [(a["who"], a["action"], a["tenant"]) for a in audits] == [("alice", "delete", "b")]
