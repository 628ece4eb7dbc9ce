"""Curation on real data through the real worker, Kafka, Weaviate and model."""

from __future__ import annotations

import json
import random
import signal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from weaviate.classes.query import Filter

from connectors import datasets
from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent
from streams.harness.worker_process import Worker, wait_for
from streams.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.worker(own_data=True, overrides={
    "HEADWATER_CURATE__TTL_SWEEP_S": "1", "HEADWATER_CURATE__TTL_S_BY_SOURCE": '{"short-lived": 3600}'})]
T0 = datetime(2026, 2, 1, tzinfo=UTC)


def objects(client: Any, worker: Worker, tenant: str) -> list[Any]:
    col = client.collections.use(worker.settings.weaviate.collection)
    try:
        return list(col.with_tenant(tenant).iterator())
    except Exception as exc:  # noqa: BLE001 - no tenant yet: nothing indexed
        if "tenant" in str(exc).lower():
            return []
        raise


def app(tenant: str, eid: str, message: str, i: int) -> AppEventEnvelope:
    return AppEventEnvelope(event_id=eid, source="jeopardy", tenant=tenant, event_time=T0 + timedelta(minutes=i),
                            payload=AppEvent(app="jeopardy", action="question", message=message))


def doc(tenant: str, doc_id: str, text: str) -> DocumentEvent:
    return DocumentEvent(event_id=f"ev-{doc_id}", source="wiki100", tenant=tenant, event_time=T0,
                         payload=Document(doc_id=doc_id, title=doc_id, text=text))


def wiki_sections(n: int) -> list[tuple[str, str]]:
    out = []
    for path in datasets.wiki_files()[:20]:
        for j, part in enumerate(path.read_text().split("\n*: ")[1:4]):
            body = part.split(" - ", 1)[-1][:500].rsplit(" ", 1)[0]
            if len(body) > 200:
                out.append((f"{path.stem}-{j}", body))
    return out[:n]


def small_edit(text: str, rnd: random.Random) -> str:
    """A near copy that states the same fact: an ordinary lowercase word pluralised or shouted.

    Never a name, number or code: "Smith" -> "Smiths" is another fact, and the worker keeps it.
    """
    words = text.split()
    # Long enough to be no negation ("not") and not a unit: the word after a number is one ("49 to").
    plain = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) >= 5
             and not (i and any(c.isdigit() for c in words[i - 1]))] or [len(words) - 1]
    i = rnd.choice(plain)
    words[i] = words[i] + "s" if rnd.random() < 0.5 else words[i].upper()
    return " ".join(words) + " !"


def test_exact_near_and_trivial_records_are_removed_on_real_data(worker: Worker, client: Any) -> None:
    tenant, rnd = "dedup", random.Random(42)
    jeo = [f"Category: {r['Category']}. Question: {r['Question']} Answer: {r['Answer']}"
           for r in datasets.jeopardy()[:150]]
    sections = wiki_sections(40)
    originals: list[AnyEvent] = [app(tenant, f"clean-{i}", m, i) for i, m in enumerate(jeo[:100])]
    originals += [doc(tenant, sid, text) for sid, text in sections]
    worker.send(originals)
    assert wait_for(lambda: len(objects(client, worker, tenant)) >= len(originals), 180, 1.0)

    exact = [app(tenant, f"exact-{i}", jeo[i], 500 + i) for i in rnd.sample(range(100), 50)]
    exact += [doc(tenant, f"exact-{sid}", text) for sid, text in rnd.sample(sections, 20)]
    near = [app(tenant, f"near-{i}", small_edit(jeo[i], rnd), 600 + i) for i in rnd.sample(range(100), 24)]
    near += [doc(tenant, f"near-{sid}", small_edit(text, rnd)) for sid, text in rnd.sample(sections, 11)]
    trivial = [app(tenant, f"trivial-{i}", m, 700 + i) for i, m in enumerate(
        ["ok", "asdf", "click here to subscribe now", "spam " * 30, "!!!! ???? #### $$$$ %%%%", "lol", "test"])]
    fresh = [app(tenant, f"fresh-{i}", m, 800 + i) for i, m in enumerate(jeo[100:150])]
    stream = exact + near + trivial + fresh
    rnd.shuffle(stream)
    worker.send(stream)
    total_clean = len(originals) + len(fresh)
    assert wait_for(lambda: len(objects(client, worker, tenant)) >= total_clean, 180, 1.0)
    wait_for(lambda: False, 3)  # let stragglers (wrongly kept copies) land

    total = len(originals) + len(stream)
    assert len(exact) / total >= 0.20 and len(near) / total >= 0.10
    indexed = {o.properties["event_id"] for o in objects(client, worker, tenant)}
    exact_removed = sum(e.event_id not in indexed for e in exact) / len(exact)
    near_removed = sum(e.event_id not in indexed for e in near) / len(near)
    trivial_removed = sum(e.event_id not in indexed for e in trivial) / len(trivial)
    clean_lost = sum(e.event_id not in indexed for e in originals + fresh) / total_clean
    print(f"exact removed {exact_removed:.3f}, near removed {near_removed:.3f}, "
          f"trivial removed {trivial_removed:.3f}, clean wrongly dropped {clean_lost:.3f}")
    assert exact_removed >= 0.99
    assert near_removed >= 0.90
    assert trivial_removed == 1.0
    assert clean_lost <= 0.01
    counts = worker.metrics()["counts"]
    assert counts.get("dropped.duplicate:exact.app", 0) >= 50
    assert sum(v for k, v in counts.items() if k.startswith("dropped.trivial")) >= len(trivial) - 1


PII = ["jane.doe@example.com", "+49 30 12345678", "(415) 555-0134", "4111 1111 1111 1111", "5500-0000-0000-0004",
       "DE89 3704 0044 0532 0130 00", "192.168.17.42"]


def test_no_personal_data_reaches_weaviate_or_the_dead_letter_topic(worker: Worker, client: Any) -> None:
    tenant = "pii"
    events: list[AnyEvent] = []
    # Real, distinct texts around the personal data: template texts would (rightly) be near duplicates.
    jeo = datasets.jeopardy()[200:200 + 2 * len(PII)]
    for i, value in enumerate(PII):
        events.append(AppEventEnvelope(
            event_id=f"pii-app-{i}", source="crm", tenant=tenant, event_time=T0,
            payload=AppEvent(app="crm", action="note", actor="agent jane.doe@example.com",
                             message=f"{jeo[i]['Question']} Reach the customer at {value} tomorrow.")))
        # Unique wording per document: once redacted, equal texts would be (rightly) deduplicated.
        q = jeo[len(PII) + i]
        events.append(doc(tenant, f"pii-doc-{i}", f"{q['Category']}: {q['Question']} The answer, {q['Answer']}, "
                                                  f"was sent to {value}."))
    worker.send(events)
    bad = b'{"event_id": "broken", "payload": "card 4111 1111 1111 1111 and jane.doe@example.com"'
    invalid = json.dumps({"kind": "app", "event_id": "bad-pii", "source": "crm", "event_time": "2026-02-01T00:00:00Z",
                          "payload": {"app": "", "message": "mail jane.doe@example.com"}}).encode()
    worker.produce(worker.settings.topics.app, [(b"pii/x", bad), (b"pii/x", invalid)])
    assert wait_for(lambda: len(objects(client, worker, tenant)) >= len(events), 120, 0.5)
    dumped = json.dumps([o.properties for o in objects(client, worker, tenant)], default=str)
    for value in PII:
        assert value not in dumped
    assert "[EMAIL]" in dumped and "[CARD]" in dumped and "[PHONE]" in dumped and "[IBAN]" in dumped
    dead = worker.consume_dead_letters(2, 60)
    assert len(dead) == 2 and all(b"4111 1111 1111 1111" not in d.value() and b"jane.doe" not in d.value()
                                  for d in dead)
    assert all(dict(d.headers())["headwater.redacted"] == b"true" for d in dead)
    # Redacted field by field: still the original record, valid JSON with its ids, so it can be fixed and replayed.
    kept = json.loads(dead[-1].value())
    assert kept["event_id"] == "bad-pii" and kept["payload"]["message"] == "mail [EMAIL]"


def test_reingesting_the_same_corpus_runs_no_forward_pass(worker: Worker, client: Any) -> None:
    tenant = "cache"
    events = datasets.jeopardy_events(tenant, 60, offset=300)
    worker.send(events)
    assert wait_for(lambda: len(objects(client, worker, tenant)) >= 60, 120, 0.5)
    wait_for(lambda: worker.metrics()["counts"].get("events", 0) >= 60, 10)
    before = worker.metrics()["embedding_cache"]
    worker.send(events)  # the same corpus again: same ids, same texts
    done = before["hits"] + 60
    assert wait_for(lambda: worker.metrics()["embedding_cache"].get("hits", 0) >= done, 60, 0.5)
    after = worker.metrics()["embedding_cache"]
    assert after["forward_calls"] == before["forward_calls"]
    assert after["misses"] == before["misses"]
    assert len(objects(client, worker, tenant)) == 60


def reading(tenant: str, eid: str, value: float, minutes_ago: float, source: str = "plant") -> AnyEvent:
    from schemas import SensorEvent, SensorReading

    return SensorEvent(event_id=eid, source=source, tenant=tenant,
                       event_time=datetime.now(UTC) - timedelta(minutes=minutes_ago),
                       payload=SensorReading(device_id="pump-9", metric="temperature", value=value, unit="C",
                                             location="hall 2"))


def test_latest_reading_supersedes_the_current_state(worker: Worker, client: Any) -> None:
    tenant = "state"
    worker.send([reading(tenant, "r1", 70.5, 30), reading(tenant, "r2", 74.25, 20)])
    worker.send([reading(tenant, "r3", 79.75, 10)])
    state = Filter.by_property("record_type").equal("state")

    def current() -> list[Any]:
        try:
            col = client.collections.use(worker.settings.weaviate.collection).with_tenant(tenant)
            return col.query.fetch_objects(filters=state, limit=10).objects
        except Exception:  # noqa: BLE001 - tenant not there yet
            return []

    assert wait_for(lambda: (s := current()) and "79.75" in s[0].properties["text"], 60, 0.5)
    objs = current()
    assert len(objs) == 1 and objs[0].properties["event_id"] == "r3"
    assert len(objects(client, worker, tenant)) == 4  # three readings (history) + one current state


def test_chunks_past_their_ttl_leave_weaviate(worker: Worker, client: Any) -> None:
    tenant = "ttl"
    old = reading(tenant, "old", 50.0, 120, source="short-lived")   # 2 h old, TTL 1 h
    young = reading(tenant, "young", 51.0, 5, source="short-lived")
    kept = reading(tenant, "kept", 52.0, 120, source="plant")      # no TTL for this source
    worker.send([old, young, kept])
    ids = lambda: {o.properties["event_id"] for o in objects(client, worker, tenant)}  # noqa: E731
    assert wait_for(lambda: {"young", "kept"} <= ids() and "old" not in ids(), 60, 0.5)
    assert wait_for(lambda: worker.metrics()["counts"].get("expired", 0) >= 1, 30, 0.5)


def test_optional_semantic_dedup_drops_a_paraphrase(settings: Settings, tmp_path: Any) -> None:
    from connectors.weaviate.client import connect

    w = Worker.create(settings, uuid.uuid4().hex[:8], tmp_path, overrides={
        "HEADWATER_STACK__DATA_DIR": str(tmp_path / "data"), "HEADWATER_CURATE__DEDUP_NEAR": "false",
        "HEADWATER_CURATE__SEMANTIC_THRESHOLD": "0.9"})
    tenant = "semantic"
    w.start()
    c = connect(w.settings.weaviate)
    try:
        w.send([app(tenant, "orig", "The Nile is the longest river in Africa and it flows north into the sea.", 0)])
        assert wait_for(lambda: len(objects(c, w, tenant)) == 1, 60, 0.3)
        w.send([app(tenant, "para", "The Nile is the longest river of Africa, and it flows northwards to the sea.", 1),
                app(tenant, "other", "Quarterly revenue grew by twelve percent thanks to strong cloud sales.", 2)])
        assert wait_for(lambda: len(objects(c, w, tenant)) == 2, 60, 0.3)
        wait_for(lambda: False, 2)
        assert {o.properties["event_id"] for o in objects(c, w, tenant)} == {"orig", "other"}
        assert w.metrics()["counts"].get("dropped.duplicate:semantic.app") == 1
    finally:
        c.close()
        w.kill(signal.SIGTERM)
        w.drop()
