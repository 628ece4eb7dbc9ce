"""POST /v1/events against real Kafka: 202 only once Kafka holds the records, 401, 413, 422, 503; hostile
bodies between valid ones get a reason (never a 500) and the server keeps serving."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.config import KafkaSettings
from connectors.http_source import create_ingest_api
from connectors.producer import Producer
from streams.harness.serving import serving
from streams.settings import Settings
from tests.integration.kafka_kit import count, fresh_topics, read

pytestmark = pytest.mark.integration

KEY = "s3cret-key"


@pytest.fixture
def s(settings: Settings, unique: str) -> Iterator[Settings]:
    with fresh_topics(settings, unique) as fresh:
        yield fresh.model_copy(update={"http": fresh.http.model_copy(
            update={"api_keys": [SecretStr(KEY)], "max_body_bytes": 20_000})})


def sensor(i: int, **payload: Any) -> dict[str, Any]:
    return {"kind": "sensor", "event_id": f"http-{i}", "source": "test", "event_time": "2026-01-01T00:00:00Z",
            "payload": {"device_id": f"dev-{i % 2}", "metric": "temperature", "value": 20.0 + i} | payload}


def document(i: int) -> dict[str, Any]:
    return {"kind": "document", "event_id": f"doc-{i}", "source": "test",
            "event_time": "2026-01-01T00:00:00Z",
            "payload": {"doc_id": f"d{i}", "text": "Pump 7 needs new seals.", "version": 1}}


def post(settings: Settings, producer: Producer, content: Any, headers: dict[str, str] | None = None,
         **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_ingest_api(settings, producer))
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            all_headers = {"X-API-Key": KEY} | (headers or {})
            return await client.post("/v1/events", content=content, headers=all_headers, **kw)

    return asyncio.run(go())


@pytest.fixture
def producer(s: Settings) -> Iterator[Producer]:
    p = Producer(s.kafka, client_id="test-http")
    yield p
    p.close()


def test_json_array_is_stamped_and_on_kafka_before_202(s: Settings, producer: Producer) -> None:
    body = json.dumps([sensor(1), sensor(2), document(3)])
    r = post(s, producer, body, {"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 3, "event_ids": ["http-1", "http-2", "doc-3"]}
    assert count(s, s.topics.sensor) == 2 and count(s, s.topics.document) == 1  # durable at 202 time
    records = read(s, s.topics.sensor, 2)
    assert [r.value["event_id"] for r in records if r.value] == ["http-1", "http-2"]
    assert all(r.value and r.value["ingest_time"] for r in records)
    assert records[0].key == b"default/dev-1"


def test_single_object_and_ndjson(s: Settings, producer: Producer) -> None:
    assert post(s, producer, json.dumps(sensor(1))).json()["event_ids"] == ["http-1"]
    ndjson = "\n".join(json.dumps(sensor(i)) for i in range(2, 5)) + "\n\n"
    r = post(s, producer, ndjson, {"Content-Type": "application/x-ndjson"})
    assert r.status_code == 202 and r.json()["accepted"] == 3
    assert [x.value["event_id"] for x in read(s, s.topics.sensor, 4) if x.value] == \
        ["http-1", "http-2", "http-3", "http-4"]


def test_bearer_token_works(s: Settings, producer: Producer) -> None:
    r = post(s, producer, json.dumps(sensor(1)), {"X-API-Key": "", "Authorization": f"Bearer {KEY}"})
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("headers", [{"X-API-Key": ""}, {"X-API-Key": "wrong"},
                                     {"X-API-Key": "", "Authorization": "Bearer wrong"}])
def test_auth_failure_is_401(s: Settings, producer: Producer, headers: dict[str, str]) -> None:
    r = post(s, producer, json.dumps(sensor(1)), headers)
    assert r.status_code == 401
    assert "API key" in r.json()["detail"] and r.headers["WWW-Authenticate"] == "Bearer"
    assert count(s, s.topics.sensor) == 0


def test_no_keys_configured_means_no_auth(s: Settings, producer: Producer) -> None:
    open_settings = s.model_copy(update={"http": s.http.model_copy(update={"api_keys": []})})
    assert post(open_settings, producer, json.dumps(sensor(1)), {"X-API-Key": ""}).status_code == 202


def test_one_invalid_item_rejects_all_with_field_paths(s: Settings, producer: Producer) -> None:
    body = json.dumps([sensor(0), sensor(1, value="hot"), sensor(2), {"kind": "sensor"}])
    r = post(s, producer, body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["index"] for d in detail] == [1, 3]
    assert detail[0]["errors"][0]["loc"] == "payload.value" and detail[0]["errors"][0]["msg"]
    assert {e["loc"] for e in detail[1]["errors"]} >= {"event_id", "payload"}
    assert count(s, s.topics.sensor) == 0


def test_bad_ndjson_line_is_422_with_index(s: Settings, producer: Producer) -> None:
    r = post(s, producer, json.dumps(sensor(0)) + "\n{nope\n", {"Content-Type": "application/x-ndjson"})
    assert r.status_code == 422 and r.json()["detail"][0]["index"] == 1
    assert count(s, s.topics.sensor) == 0


def test_not_json_is_400(s: Settings, producer: Producer) -> None:
    r = post(s, producer, "{nope")
    assert r.status_code == 400 and "not JSON" in r.json()["detail"]


def test_too_large_is_413_by_content_length_and_by_actual_size(s: Settings, producer: Producer) -> None:
    big = json.dumps([sensor(i) for i in range(200)])
    assert len(big) > s.http.max_body_bytes
    r = post(s, producer, big)
    assert r.status_code == 413 and "larger than 20000 bytes" in r.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is found while reading
        for i in range(0, len(big), 1000):
            yield big[i:i + 1000].encode()

    r = post(s, producer, chunks())
    assert r.status_code == 413
    assert count(s, s.topics.sensor) == 0


def test_queue_full_is_503_with_retry_after(s: Settings) -> None:
    """One slot, taken by a record for a broker that never answers: the next request gets 503."""
    nowhere = Producer(KafkaSettings(bootstrap_servers="127.0.0.1:1"), max_in_flight=1,
                       message_timeout_ms=3000)
    app = create_ingest_api(s, nowhere)

    async def go() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            headers = {"X-API-Key": KEY}
            first = asyncio.create_task(client.post("/v1/events", json=sensor(1), headers=headers))
            while nowhere.counters()["in_flight"] == 0:
                await asyncio.sleep(0.01)
            second = await client.post("/v1/events", json=sensor(2), headers=headers)
            return second, await first

    try:
        second, first = asyncio.run(go())
    finally:
        nowhere.close()
    assert second.status_code == 503 and second.headers["Retry-After"] == "1"
    assert "await Kafka's confirmation" in second.json()["detail"]
    # The first one was never confirmed: a retriable delivery failure, also 503 + Retry-After.
    assert first.status_code == 503 and "Retry-After" in first.headers
    assert "did not confirm" in first.json()["detail"]


def test_healthz_and_openapi(s: Settings, producer: Producer) -> None:
    async def go() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=create_ingest_api(s, producer))
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            return await client.get("/healthz"), await client.get("/openapi.json")

    health, spec = asyncio.run(go())
    assert health.status_code == 200 and health.json()["status"] == "ok"
    op = spec.json()["paths"]["/v1/events"]["post"]
    assert "application/x-ndjson" in op["requestBody"]["content"]
    assert {"202", "401", "413", "422", "503"} <= set(op["responses"])


def _big_document(limit: int) -> dict[str, Any]:
    return document(99) | {"payload": {"doc_id": "big", "text": "x" * (limit + 1), "version": 1}}


def test_hostile_bodies_between_valid_ones_get_reasons_and_the_server_keeps_serving(s: Settings) -> None:
    limit = 15_000  # below max_body_bytes (20 000): the event limit decides, as at the default sizes
    producer = Producer(s.kafka.model_copy(update={"max_event_bytes": limit}), client_id="test-http-hostile")
    ndjson = {"Content-Type": "application/x-ndjson"}
    hostile: list[tuple[bytes, dict[str, str], int, str]] = [
        (b"[" * 200_000, {}, 413, "larger than 20000 bytes"),  # bigger than the body limit
        (b"[" * 15_000, {}, 400, "json: nesting too deep"),
        (b'{"value": ' + b"1" * 5000 + b"}", {}, 400, "json: number too large (5000 digits) at line 1 column 11"),
        (json.dumps(sensor(0)).encode() + b"\n" + b"1" * 5000 + b"\n", ndjson, 422, "line 2 is not JSON"),
        (b"\xff\xfe\x00", {}, 400, "not UTF-8"),
        (b'{"kind": "sensor\x00"}', {}, 400, "not JSON"),
        (b'["a", 1, null]', {}, 422, "expected an object"),
        (json.dumps(sensor(0) | {"schema_version": 2}).encode(), {}, 422, "schema_version 2 is not supported"),
        (json.dumps(_big_document(limit)).encode(), {}, 413, "HEADWATER_KAFKA__MAX_EVENT_BYTES"),
    ]
    statuses = []
    try:
        with serving(create_ingest_api(s, producer)) as url, httpx.Client(base_url=url, timeout=30) as client:
            headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
            for i, (body, extra, want, says) in enumerate(hostile, start=1):
                ok = client.post("/v1/events", content=json.dumps(sensor(i)), headers=headers)
                bad = client.post("/v1/events", content=body, headers=headers | extra)
                statuses.append(ok.status_code)
                assert (bad.status_code, says in bad.text) == (want, True), bad.text[:300]
            last = client.post("/v1/events", content=json.dumps(sensor(100)), headers=headers)
            health = client.get("/healthz")
    finally:
        producer.close()
    assert statuses == [202] * len(hostile) and last.status_code == 202 and health.json()["status"] == "ok"
    ids = [r.value["event_id"] for r in read(s, s.topics.sensor, len(hostile) + 1) if r.value]
    assert sorted(ids) == sorted(f"http-{i}" for i in [*range(1, len(hostile) + 1), 100])
    assert count(s, s.topics.sensor) == len(hostile) + 1 and count(s, s.topics.document) == 0
