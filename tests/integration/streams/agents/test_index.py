"""The live pipeline against real Kafka, real Weaviate and the real model.

A real ``headwater worker`` runs as a subprocess on per-module topics and collection. What the
index must hold in the end is the independent oracle's (``streams.harness.oracle``), compared
entity by entity once the worker committed everything it was sent.
"""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from weaviate.classes.query import Filter

from connectors import datasets as realdata
from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, encode
from streams.embed import Embedder
from streams.harness.oracle import compare, expected, stored
from streams.harness.worker_process import Worker, wait_for
from streams.retrieve.search import SearchRequest, search
from streams.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.worker(
    # A smaller event limit than the default, so that an oversize record fits through the test's producer.
    overrides={"HEADWATER_KAFKA__MAX_EVENT_BYTES": "1000000"})]

READ_AHEAD = {"HEADWATER_WORKER__DOCUMENT_READ_AHEAD": "4096"}  # the default too; stated where a test relies on it


def _uuids(client: Any, worker: Worker, tenant: str, where: Any = None) -> list[str]:
    col = client.collections.use(worker.settings.weaviate.collection)
    if not client.collections.exists(worker.settings.weaviate.collection):
        return []
    try:
        tcol = col.with_tenant(tenant)
        return [str(o.uuid) for o in tcol.iterator(return_properties=[])] if where is None else \
            [str(o.uuid) for o in tcol.query.fetch_objects(filters=where, limit=10_000).objects]
    except Exception as exc:  # noqa: BLE001 - tenant not yet created: nothing indexed yet
        if "tenant" in str(exc).lower():
            return []
        raise


def assert_as_the_oracle_says(client: Any, worker: Worker, events: list[AnyEvent], timeout_s: float = 120) -> None:
    """Once the worker committed every record sent: nothing missing, stale, orphan or duplicate."""
    worker.settle(timeout_s)
    s = worker.settings
    want = expected(events, readings=s.curate.sensor_readings == "index", states=s.curate.sensor_current_state)
    diff = compare(want, stored(client, s.weaviate.collection, want.tenants))
    assert diff.clean, diff.report()


def _own_worker(settings: Settings, tmp_path: Path, tenant: str, n: int, *,
                offset: int) -> tuple[Worker, list[AnyEvent]]:
    """A worker of the test's own (it kills and restarts it), and ``n`` Jeopardy events."""
    w = Worker.create(settings, uuid.uuid4().hex[:8], tmp_path)
    return w, realdata.jeopardy_events(tenant, n, offset=offset)


def test_mixed_real_events_index_what_the_oracle_expects(worker: Worker, client: Any) -> None:
    events = realdata.mixed_events("mixed", docs=3, app=150, sensor=100)
    worker.send(events)
    assert_as_the_oracle_says(client, worker, events, 240)


def test_planted_fact_is_top_hit_within_seconds(worker: Worker, client: Any, embedder: Embedder) -> None:
    tenant = "fresh"
    fact = AppEventEnvelope(
        event_id=f"fact-{uuid.uuid4().hex[:6]}", source="test", tenant=tenant, event_time=datetime.now(UTC),
        payload=AppEvent(app="facilities", action="changed-code", actor="marta",
                         message="The access code of vault 7 in building C was changed to 4471."))
    noise = realdata.jeopardy_events(tenant, 40)
    worker.send(noise)
    wait_for(lambda: len(_uuids(client, worker, tenant)) >= 40, 120, 0.5)
    produced = time.monotonic()
    worker.send([fact])
    req = SearchRequest(query="What is the new access code for vault 7?", tenant=tenant, k=3)

    def top_is_fact() -> bool:
        hits = search(client, embedder, worker.settings.weaviate.collection, req, 0.5)
        return bool(hits) and hits[0].citation.event_id == fact.event_id

    assert wait_for(top_is_fact, 10, 0.1), "planted fact not the top hit within 10 s"
    assert time.monotonic() - produced < 10
    hit = search(client, embedder, worker.settings.weaviate.collection, req, 0.5)[0]
    assert hit.citation.kafka_topic == worker.settings.topics.app
    assert "4471" in hit.text


def _doc(tenant: str, doc_id: str, version: int, text: str, deleted: bool = False) -> DocumentEvent:
    return DocumentEvent(event_id=f"{doc_id}-v{version}{'-del' if deleted else ''}", source="test", tenant=tenant,
                         event_time=datetime.now(UTC), payload=Document(doc_id=doc_id, title=doc_id, version=version,
                                                                         text=text, deleted=deleted))


def test_document_update_leaves_no_stale_chunk_and_delete_leaves_nothing(
        worker: Worker, client: Any, embedder: Embedder) -> None:
    tenant = "docs"
    old_text = realdata.wiki_article(0)[:6000]
    new_text = "Zanzibar ferries now leave every 40 minutes. " * 3
    v1, v2 = _doc(tenant, "guide", 1, old_text), _doc(tenant, "guide", 2, new_text)
    by_doc = Filter.by_property("doc_id").equal("guide")
    worker.send([v1])
    assert wait_for(lambda: len(_uuids(client, worker, tenant, by_doc)) > 2, 120, 0.5)
    worker.send([v2])

    def only_v2() -> bool:
        col = client.collections.use(worker.settings.weaviate.collection).with_tenant(tenant)
        objs = col.query.fetch_objects(filters=by_doc, limit=1000).objects
        return bool(objs) and all(o.properties["doc_version"] == 2 for o in objs)

    assert wait_for(only_v2, 60, 0.5)
    req = SearchRequest(query=old_text[:200], tenant=tenant, k=10)
    hits = search(client, embedder, worker.settings.weaviate.collection, req, 0.5)
    assert hits and all(h.citation.doc_version == 2 for h in hits)

    worker.send([_doc(tenant, "guide", 3, "", deleted=True)])
    assert wait_for(lambda: not _uuids(client, worker, tenant, by_doc), 60, 0.5)
    assert search(client, embedder, worker.settings.weaviate.collection,
                  SearchRequest(query="Zanzibar ferries", tenant=tenant, k=5), 0.5) == []


def test_an_edit_behind_a_backfill_is_searchable_before_it_and_the_final_index_is_the_oracles(
        settings: Settings, tmp_path: Path) -> None:
    """A light document (a memo, an edit, a delete) does not wait for every article ahead of it, and
    the reordering never reorders one document's own events: the end state is the oracle's.

    One partition, so that without the read-ahead the memo would come strictly after the backfill.
    """
    from connectors.weaviate.client import connect

    tenant = "read-ahead"
    backfill = realdata.wiki_events(tenant, 8)
    ids = [e.payload.doc_id for e in backfill if isinstance(e, DocumentEvent)]
    memo = _doc(tenant, "memo", 1, "The access code of vault 7 is 4821. Share it only with the night shift.")
    edit = _doc(tenant, ids[4], 1, "Edited: this article now says one short thing about rivers and boats.")
    gone = _doc(tenant, ids[2], 1, "", deleted=True)
    events: list[AnyEvent] = [*backfill, memo, edit, gone]
    by = lambda doc_id: Filter.by_property("doc_id").equal(doc_id)  # noqa: E731
    with Worker.started(settings, tmp_path, partitions=1, overrides=READ_AHEAD) as w:
        client = connect(w.settings.weaviate)
        try:
            w.send(events)
            assert wait_for(lambda: _uuids(client, w, tenant, by("memo")), 120, 0.1)
            assert not _uuids(client, w, tenant, by(ids[-1])), "the memo waited for the whole backfill"

            assert_as_the_oracle_says(client, w, events, 300)  # no stale chunk of the edited or deleted article
        finally:
            client.close()


@contextmanager
def _backfill_under_way(settings: Settings, tmp_path: Path, tenant: str,
                        events: list[AnyEvent]) -> Iterator[tuple[Worker, Worker, Any]]:
    """A worker that has stored the first chunks of ``events``, and a sibling in its group, not started."""
    from connectors.weaviate.client import connect

    with Worker.started(settings, tmp_path, overrides=READ_AHEAD) as w:
        client = connect(w.settings.weaviate)
        other = w.sibling("b")
        try:
            w.send(events)
            assert wait_for(lambda: _uuids(client, w, tenant), 60, 0.1)
            yield w, other, client
        finally:
            other.kill(signal.SIGTERM)
            client.close()


def test_a_worker_joining_during_a_backfill_gets_partitions_at_once_and_nothing_is_lost(
        settings: Settings, tmp_path: Path) -> None:
    """faust waits, before a rebalance, for every message its agents hold: the document lane's
    read-ahead is handed back unwritten instead of written first, and read again after."""
    tenant = "rebalance"
    events = realdata.wiki_events(tenant, 10)
    with _backfill_under_way(settings, tmp_path, tenant, events) as (w, other, client):
        other.start()  # ready once the group gave it partitions: the rebalance is done
        assert_as_the_oracle_says(client, w, events, 300)


def test_a_rebalance_during_a_long_backfill_does_not_wait_for_the_read_ahead(settings: Settings,
                                                                            tmp_path: Path) -> None:
    """Measured: a second worker was ready 3.3 s after it started, 42.4 s when the read-ahead was written first."""
    tenant = "long-backfill"
    events = realdata.wiki_events(tenant, 40)
    docs = {e.payload.doc_id for e in events if isinstance(e, DocumentEvent)}
    with _backfill_under_way(settings, tmp_path, tenant, events) as (w, other, client):
        started = time.monotonic()
        other.start()
        joined = time.monotonic() - started
        assert joined < 15, f"the rebalance waited {joined:.1f} s for the first worker's read-ahead"

        def stored() -> set[str]:
            col = client.collections.use(w.settings.weaviate.collection).with_tenant(tenant)
            return {str(o.properties["doc_id"]) for o in col.iterator(return_properties=["doc_id"])}

        assert wait_for(lambda: stored() == docs, 300, 2.0)
        got = _uuids(client, w, tenant)
        assert len(got) == len(set(got))


def test_bad_records_go_to_dead_letter_and_valid_neighbours_are_indexed(worker: Worker, client: Any) -> None:
    tenant = "dlq"
    good = realdata.jeopardy_events(tenant, 4, offset=500)
    bad_schema = json.loads(encode(good[0]))
    bad_schema["payload"]["app"] = ""
    bad_schema["event_id"] = "bad-schema"
    oversize = encode(good[0]).replace(b'"message":"', b'"message":"' + b"x" * 1_040_000, 1)
    t = worker.settings.topics.app
    worker.produce(t, [(b"dlq/j", encode(good[0])), (b"dlq/j", b"{not json"), (b"dlq/j", encode(good[1])),
                       (b"dlq/j", json.dumps(bad_schema).encode()), (b"dlq/j", encode(good[2])),
                       (b"dlq/j", oversize), (b"dlq/j", encode(good[3]))])
    dead = worker.consume_dead_letters(3, 60)
    reasons = sorted(dict(m.headers())["headwater.reason"].decode().split(":")[0] for m in dead)
    assert reasons == ["json", "oversize", "schema"]
    for m in dead:
        h = dict(m.headers())
        assert h["headwater.stage"] == b"validate"
        assert h["headwater.topic"].decode() == t
        assert int(h["headwater.offset"]) >= 0
    schema_dead = next(m for m in dead if dict(m.headers())["headwater.reason"].startswith(b"schema"))
    assert b"payload.app" in dict(schema_dead.headers())["headwater.reason"]
    assert json.loads(schema_dead.value())["event_id"] == "bad-schema"  # original bytes kept
    assert wait_for(lambda: len(_uuids(client, worker, tenant)) == 4, 60, 0.5)


def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(settings: Settings, tmp_path: Path) -> None:
    from connectors.weaviate.client import connect

    tenant = "crash"
    w, events = _own_worker(settings, tmp_path, tenant, 500, offset=100)
    w.start()
    client = connect(w.settings.weaviate)
    try:
        w.send(events)
        assert wait_for(lambda: len(_uuids(client, w, tenant)) >= 30, 120, 0.2)
        w.kill(signal.SIGKILL)
        partial = len(_uuids(client, w, tenant))
        w.start()
        assert partial < len(events), "the worker finished before the kill: offer more events"
        assert_as_the_oracle_says(client, w, events, 180)
    finally:
        client.close()
        w.kill(signal.SIGTERM)
        w.drop()


def test_a_static_member_restarted_on_another_port_gets_its_partitions_back(
        settings: Settings, tmp_path: Path) -> None:
    """`headwater demo` run again at once: the same instance id, another metrics port, within the session timeout.

    The broker hands a static member that rejoins its old assignment, which carries the URL faust
    advertised before; a URL made of the port failed faust's check and the worker never became ready.
    """
    from dataclasses import replace

    from connectors.weaviate.client import connect
    from streams.harness.worker_process import free_port

    tenant = "restart"
    w, events = _own_worker(settings, tmp_path, tenant, 20, offset=700)
    w.start()
    client = connect(w.settings.weaviate)
    again = w
    try:
        w.send(events[:10])
        assert_as_the_oracle_says(client, w, events[:10])
        w.kill(signal.SIGTERM)
        again = replace(w, env={**w.env, "HEADWATER_WORKER__WEB_PORT": str(free_port())}, proc=None)
        again.start()  # raises unless ready within 120 s
        again.send(events[10:])
        assert_as_the_oracle_says(client, again, events)
    finally:
        client.close()
        again.kill(signal.SIGTERM)
        w.drop()


def _recent(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def test_search_api_filters_and_cites(worker: Worker, client: Any) -> None:
    from fastapi.testclient import TestClient

    from streams.retrieve.api import create_api

    tenant = "api"
    events = [*realdata.jeopardy_events(tenant, 20, offset=700), *realdata.occupancy_events(tenant, 5)]
    worker.send(events)
    assert wait_for(lambda: len(_uuids(client, worker, tenant)) >= 25, 120, 0.5)
    from streams.settings import AuthSettings

    # This test is about filters and citations; who may search is tests/integration/streams/retrieve's subject.
    open_api = worker.settings.model_copy(update={"auth": AuthSettings(anonymous=True)})
    with TestClient(create_api(open_api)) as http:
        assert "/v1/search" in http.get("/openapi.json").json()["paths"]
        r = http.post("/v1/search", json={"query": "room temperature in the office", "tenant": tenant,
                                          "kind": "sensor", "k": 3})
        assert r.status_code == 200, r.text
        hits = r.json()
        assert hits and all(h["kind"] == "sensor" for h in hits)
        c = hits[0]["citation"]
        assert c["event_id"].startswith("occupancy-") and c["kafka_topic"] == worker.settings.topics.sensor
        assert c["char_end"] > c["char_start"] >= 0 and c["event_time"]
        bad = http.post("/v1/search", json={"query": "", "tenant": tenant})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "query"


def test_weaviate_outage_stalls_the_worker_and_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    from connectors.weaviate.client import connect
    from streams.stack.weaviate import Weaviate

    tenant = "outage"
    w, events = _own_worker(settings, tmp_path, tenant, 60, offset=400)
    weaviate = Weaviate(settings)
    w.start()
    try:
        w.send(events[:20])
        client = connect(w.settings.weaviate)
        assert_as_the_oracle_says(client, w, events[:20], 60)
        client.close()
        assert weaviate.proc.stop(), "the session's Weaviate is not a native process this test can stop"
        w.send(events[20:])
        assert wait_for(lambda: w.metrics()["counts"].get("upsert.retries", 0) > 0, 60, 0.5)
        weaviate.start()
        assert wait_for(weaviate.ready, 60, 0.3)
        client = connect(w.settings.weaviate)
        assert_as_the_oracle_says(client, w, events)
        client.close()
    finally:
        if not weaviate.ready():
            weaviate.start()
            wait_for(weaviate.ready, 60, 0.3)
        w.kill(signal.SIGTERM)
        w.drop()
