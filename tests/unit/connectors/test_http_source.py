"""HTTP ingest app: hostile bodies get a clear 4xx, per-key auth refuses before producing (no Kafka needed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.config import HttpIngestSettings, KafkaSettings, TopicSettings
from connectors.http_source import create_ingest_api
from connectors.producer import Producer
from tests.unit.connectors.http_kit import sensor

pytestmark = pytest.mark.unit

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


def test_without_a_valid_key_ingest_is_401_and_logged(authorizing: Any, caplog: pytest.LogCaptureFixture) -> None:
    for key in (None, "wrong"):
        r = _post_as(authorizing, _doc("hello there world"), key)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "headwater.audit.access"]
    assert [(a["who"], a["outcome"], a["status"]) for a in lines] == [("anonymous", "denied", 401)] * 2
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
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "headwater.audit.access"]
    assert [(a["who"], a["action"], a["tenant"]) for a in lines] == [("alice", "delete", "b")]
