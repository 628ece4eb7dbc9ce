"""Who may read and write what, through the real doors: a real worker, Kafka, Weaviate and model.

Tenants A and B are indexed by a real worker; one of A's documents may be read by group hr only.
The search API (FastAPI app with its lifespan) and the ingest API are driven with real keys from
a real key store; every refusal must also be one access-log line without the key.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from connectors import datasets, kafka_admin
from connectors.http_source import create_ingest_api
from connectors.producer import Producer
from schemas import Document, DocumentEvent
from schemas.access import AUDIT_LOGGER
from streams.auth import KeyStore, RateLimiter
from streams.harness.worker_process import Worker
from streams.retrieve.api import create_api
from streams.retrieve.guard import SearchGuard

pytestmark = [pytest.mark.integration, pytest.mark.worker(own_data=True)]
T0 = datetime(2026, 3, 1, tzinfo=UTC)
SECRET_DOC = "salaries"


def _doc(tenant: str, doc_id: str, text: str, readers: list[str] | None = None) -> DocumentEvent:
    return DocumentEvent(event_id=f"{tenant}-{doc_id}", source="test", tenant=tenant, event_time=T0,
                         readers=readers or [], payload=Document(doc_id=doc_id, title=doc_id, text=text))


def _paragraphs(n: int) -> list[str]:
    words = datasets.wiki_article(3).replace("\n", " ").split(". ")
    lines = [w.strip() + "." for w in words if len(w.split()) > 6]
    return [" ".join(lines[i * 3:i * 3 + 3]) for i in range(n)]


@pytest.fixture(scope="module")
def world(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two indexed tenants, and a key store with a key per role."""
    a, b = f"a{uuid.uuid4().hex[:6]}", f"b{uuid.uuid4().hex[:6]}"
    texts = _paragraphs(6)
    secret = "Salaries of the payroll team: the annual salary review raises every engineer's pay by four percent."
    worker.send([*(_doc(a, f"pub{i}", t) for i, t in enumerate(texts[:5])),
                 _doc(a, SECRET_DOC, secret, ["group:hr"]), _doc(b, "bdoc", texts[5])])
    worker.settle()
    store = KeyStore(tmp_path_factory.mktemp("auth") / "keys.json")
    keys = {"a": store.create("reader-a", [a], ["search"]), "hr": store.create("hr-a", [a], ["search"], ["hr"]),
            "b": store.create("reader-b", [b], ["search"]), "flood": store.create("flood", [a], ["search"]),
            "ingest-a": store.create("ingest-a", [a], ["ingest"])}
    return {"a": a, "b": b, "store": store, "keys": keys, "secret": secret}


@pytest.fixture(scope="module")
def http(worker: Worker, world: dict[str, Any]) -> Iterator[TestClient]:
    # A burst of 30 for every key: the flood test exceeds it, no other test comes near it.
    guard = SearchGuard(worker.settings, world["store"], RateLimiter(rate_per_s=0.01, burst=30))
    with TestClient(create_api(worker.settings, guard)) as client:
        yield client


def _search(http: TestClient, key: str | None, **body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return http.post("/v1/search", json={"query": "salary review of the payroll team", "k": 3} | body,
                     headers=headers)


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == AUDIT_LOGGER]


def _no_secrets(caplog: pytest.LogCaptureFixture, world: dict[str, Any]) -> None:
    assert not any(key in caplog.text for key in world["keys"].values())


def test_the_key_decides_the_tenant_and_foreign_tenants_are_403(http: TestClient, world: dict[str, Any],
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    own = _search(http, world["keys"]["b"])
    assert own.status_code == 200 and {h["entity_id"] for h in own.json()} == {"bdoc"}
    for body in ({"tenant": world["a"]}, {"tenant": world["a"], "query": "anything"}):
        r = _search(http, world["keys"]["b"], **body)
        assert r.status_code == 403 and "may not read tenant" in r.text and "citation" not in r.text
    lines = _access_lines(caplog)
    assert [(x["who"], x["tenant"], x["status"]) for x in lines] == [("reader-b", world["a"], 403)] * 2
    _no_secrets(caplog, world)


def test_no_key_or_a_revoked_key_is_401_without_a_restart(http: TestClient, world: dict[str, Any],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    assert _search(http, None, tenant=world["a"]).status_code == 401
    key = world["store"].create("temp", [world["a"]], ["search"])
    assert _search(http, key).status_code == 200
    KeyStore(world["store"].path).revoke("temp")  # as `headwater keys revoke` in another process
    start = time.monotonic()
    r = _search(http, key)
    assert r.status_code == 401 and time.monotonic() - start < 1.0
    assert [(x["who"], x["status"]) for x in _access_lines(caplog)] == [("anonymous", 401)] * 2
    _no_secrets(caplog, world)


def test_past_the_burst_a_key_gets_429_with_retry_after(http: TestClient, world: dict[str, Any],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    codes = [_search(http, world["keys"]["flood"], tenant=world["b"]).status_code for _ in range(30)]
    assert codes == [403] * 30  # refused for the tenant, but each request still counts
    r = _search(http, world["keys"]["flood"])
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert _access_lines(caplog)[-1]["status"] == 429
    assert _search(http, world["keys"]["a"]).status_code == 200  # other keys have buckets of their own


def test_a_restricted_document_is_filtered_inside_weaviate(http: TestClient, world: dict[str, Any]) -> None:
    outsider = _search(http, world["keys"]["a"], k=3)
    assert outsider.status_code == 200
    hits = outsider.json()
    assert len(hits) == 3 and SECRET_DOC not in {h["entity_id"] for h in hits}
    insider = _search(http, world["keys"]["hr"], k=3).json()
    assert insider and insider[0]["entity_id"] == SECRET_DOC
    assert insider[0]["citation"]["doc_id"] == SECRET_DOC


def test_ingest_into_or_deleting_from_another_tenant_is_403_and_produces_nothing(
        worker: Worker, world: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    s = worker.settings
    producer = Producer(s.kafka, client_id="test-security")
    app = create_ingest_api(s, producer, authorize=world["store"].lookup)
    before = kafka_admin.count(s.kafka, s.topics.document)
    write = _doc(world["b"], "intruder", "An intruder writes into another tenant's index here.")
    delete = DocumentEvent(event_id="del-b", source="test", tenant=world["b"], event_time=T0,
                           payload=Document(doc_id="bdoc", deleted=True))
    try:
        codes = [_ingest(app, event.model_dump(mode="json"), world["keys"]["ingest-a"]) for event in (write, delete)]
        codes.append(_ingest(app, write.model_dump(mode="json"), None))
    finally:
        producer.close()
    assert codes == [403, 403, 401]
    assert kafka_admin.count(s.kafka, s.topics.document) == before
    assert [(x["who"], x["action"], x["tenant"]) for x in _access_lines(caplog)] == [
        ("ingest-a", "ingest", world["b"]), ("ingest-a", "delete", world["b"]), ("anonymous", "ingest", None)]
    _no_secrets(caplog, world)


def _ingest(app: Any, body: Any, key: str | None) -> int:
    import asyncio

    async def go() -> int:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as client:
            return (await client.post("/v1/events", json=body, headers=headers)).status_code

    return asyncio.run(go())


def test_key_files_are_private(world: dict[str, Any]) -> None:
    assert Path(world["store"].path).stat().st_mode & 0o077 == 0
