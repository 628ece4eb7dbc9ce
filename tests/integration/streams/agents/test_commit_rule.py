"""The commit rule on the real stack: nothing is committed before it is stored, whatever happens.

Each test ends the same way: the worker's group has committed every record (lag 0), so nothing
will ever be read again, and then every record must be in Weaviate. A record missing then is
lost for good, which is exactly what faust's own commit rule allowed (issue 606).
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors import datasets as realdata
from connectors import kafka_admin
from connectors.weaviate.client import connect
from schemas import AnyEvent, AppEvent, AppEventEnvelope, DocumentEvent, SensorEvent, SensorReading
from streams.harness.worker_process import Worker, wait_for
from streams.settings import Settings

pytestmark = pytest.mark.integration


def _stored(client: Any, w: Worker, tenant: str, prop: str) -> set[str]:
    name = w.settings.weaviate.collection
    if not client.collections.exists(name):
        return set()
    try:
        col = client.collections.use(name).with_tenant(tenant)
        return {str(o.properties[prop]) for o in col.iterator(return_properties=[prop]) if o.properties.get(prop)}
    except Exception as exc:  # noqa: BLE001 - tenant not created yet: nothing stored yet
        if "tenant" in str(exc).lower():
            return set()
        raise


@contextmanager
def _client(w: Worker) -> Iterator[Any]:
    c = connect(w.settings.weaviate)
    try:
        yield c
    finally:
        c.close()


def _docs(events: list[AnyEvent]) -> set[str]:
    return {e.payload.doc_id for e in events if isinstance(e, DocumentEvent)}


def _all_committed_then_all_stored(w: Worker, client: Any, tenant: str, docs: set[str]) -> None:
    w.settle(600)  # every offset committed: nothing will be read again
    got = wait_for(lambda: _stored(client, w, tenant, "doc_id") >= docs and True, 10, 0.5)
    missing = docs - _stored(client, w, tenant, "doc_id")
    assert got and not missing, f"committed but never stored: {sorted(missing)}; see {w.log_path}"


@pytest.mark.parametrize("partitions", [1, 3])
def test_workers_joining_and_leaving_during_a_backfill_of_long_articles_lose_nothing(
        settings: Settings, tmp_path: Path, partitions: int) -> None:
    tenant = f"churn-{partitions}"
    events = realdata.wiki_events(tenant, 12)
    w = Worker.create(settings, uuid.uuid4().hex[:8], tmp_path, partitions=partitions)
    w.start()
    siblings = [w.sibling(name) for name in ("b", "c")]
    try:
        with _client(w) as client:
            w.send(events)
            assert wait_for(lambda: _stored(client, w, tenant, "doc_id"), 120, 0.2), "no first article"
            for sibling, stay_s in zip(siblings, (2.0, 4.0), strict=True):
                sibling.start()  # joins: a rebalance while the first worker's lane is backed up
                time.sleep(stay_s)
                sibling.kill(signal.SIGTERM if sibling is siblings[0] else signal.SIGKILL)  # and leaves
            _all_committed_then_all_stored(w, client, tenant, _docs(events))
    finally:
        for s in siblings:
            s.kill(signal.SIGKILL)
        w.kill(signal.SIGTERM)
        w.drop()


def test_a_sigkill_right_after_the_committed_offset_moved_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    tenant = "kill-after-commit"
    events = realdata.wiki_events(tenant, 8, start=20)
    w = Worker.create(settings, uuid.uuid4().hex[:8], tmp_path, partitions=1)
    w.start()
    try:
        with _client(w) as client:
            w.send(events)
            tp = (w.settings.topics.document, 0)
            moved = wait_for(lambda: kafka_admin.committed(w.settings.kafka, w.settings.worker.app_id, [tp])
                             .get(tp, 0) > 0, 180, 0.05)
            assert moved, "the worker never committed"
            w.kill(signal.SIGKILL)
            w.start()
            _all_committed_then_all_stored(w, client, tenant, _docs(events))
    finally:
        w.kill(signal.SIGTERM)
        w.drop()


def _app(tenant: str, i: int) -> AppEventEnvelope:
    return AppEventEnvelope(event_id=f"{tenant}-app-{i}", tenant=tenant, source="crm", event_time=datetime.now(UTC),
                            payload=AppEvent(app="crm", action="note",
                                             message=f"Customer {i} asked to move delivery {1000 + i} to dock {i}."))


def _reading(tenant: str, i: int) -> SensorEvent:
    return SensorEvent(event_id=f"{tenant}-r-{i}", tenant=tenant, source="plant", event_time=datetime.now(UTC),
                       payload=SensorReading(device_id=f"tank-{i}", metric="level", value=float(i), unit="m"))


def _shard_status(w: Worker, tenant: str, status: str) -> None:
    wv = w.settings.weaviate
    req = urllib.request.Request(
        f"http://{wv.host}:{wv.http_port}/v1/schema/{wv.collection}/shards/{tenant}",
        data=json.dumps({"status": status}).encode(), method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - the test's own Weaviate
        assert r.status == 200, f"could not set shard {tenant} {status}: {r.status}"


def test_a_read_only_shard_is_waited_out_nothing_dead_lettered(settings: Settings, tmp_path: Path) -> None:
    tenant = "readonly"
    w = Worker.create(settings, uuid.uuid4().hex[:8], tmp_path)
    w.start()
    try:
        with _client(w) as client:
            w.send([_app(tenant, 0)])
            assert wait_for(lambda: _stored(client, w, tenant, "event_id"), 60, 0.2), "the tenant never appeared"
            _shard_status(w, tenant, "READONLY")
            try:
                apps = [_app(tenant, i) for i in range(1, 11)]
                readings = [_reading(tenant, i) for i in range(5)]
                docs = realdata.wiki_events(tenant, 1, start=50)
                w.send([*apps, *readings, *docs])
                time.sleep(10)
                assert not ({a.event_id for a in apps} & _stored(client, w, tenant, "event_id")), \
                    "the shard was not read-only: the test proves nothing"
            finally:
                _shard_status(w, tenant, "READY")
            w.settle(300)
            stored = _stored(client, w, tenant, "event_id")
            assert {a.event_id for a in apps} <= stored
            assert _docs(docs) <= _stored(client, w, tenant, "doc_id")
            devices = _stored(client, w, tenant, "device_id")
            assert {f"tank-{i}" for i in range(5)} <= devices
            assert w.consume_dead_letters(1, 5) == [], "a passing refusal was dead-lettered"
    finally:
        w.kill(signal.SIGTERM)
        w.drop()
