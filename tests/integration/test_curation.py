"""Curation on real data through the real worker, Kafka, Weaviate and model."""

from __future__ import annotations

import json
import random
import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors import datasets
from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent
from streams.settings import Settings
from streams.worker_process import Worker, wait_for

pytestmark = pytest.mark.integration
T0 = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    data = tmp_path_factory.mktemp("curation-data")
    w = Worker.create(settings, uuid.uuid4().hex[:8], tmp_path_factory.mktemp("logs"),
                      HEADWATER_STACK__DATA_DIR=str(data))
    w.start()
    yield w
    w.kill(signal.SIGTERM)
    w.drop()




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
    words = text.split()
    i = rnd.randrange(len(words))
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

    exact = [app(tenant, f"exact-{i}", jeo[i], 500 + i) for i in rnd.sample(range(100), 30)]
    exact += [doc(tenant, f"exact-{sid}", text) for sid, text in rnd.sample(sections, 10)]
    near = [app(tenant, f"near-{i}", small_edit(jeo[i], rnd), 600 + i) for i in rnd.sample(range(100), 14)]
    near += [doc(tenant, f"near-{sid}", small_edit(text, rnd)) for sid, text in rnd.sample(sections, 6)]
    trivial = [app(tenant, f"trivial-{i}", m, 700 + i) for i, m in enumerate(
        ["ok", "asdf", "click here to subscribe now", "spam " * 30, "!!!! ???? #### $$$$ %%%%", "lol", "test"])]
    fresh = [app(tenant, f"fresh-{i}", m, 800 + i) for i, m in enumerate(jeo[100:150])]
    stream = exact + near + trivial + fresh
    rnd.shuffle(stream)
    worker.send(stream)
    total_clean = len(originals) + len(fresh)
    assert wait_for(lambda: len(objects(client, worker, tenant)) >= total_clean, 180, 1.0)
    wait_for(lambda: False, 3)  # let stragglers (wrongly kept copies) land

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
    assert counts.get("dropped.duplicate:exact.app", 0) >= 30
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
    worker.produce(worker.settings.topics.app, [(b"pii/x", bad)])
    assert wait_for(lambda: len(objects(client, worker, tenant)) >= len(events), 120, 0.5)
    dumped = json.dumps([o.properties for o in objects(client, worker, tenant)], default=str)
    for value in PII:
        assert value not in dumped
    assert "[EMAIL]" in dumped and "[CARD]" in dumped and "[PHONE]" in dumped and "[IBAN]" in dumped
    dead = worker.consume_dead_letters(1, 60)
    assert dead and b"4111 1111 1111 1111" not in dead[-1].value() and b"jane.doe" not in dead[-1].value()
    assert dict(dead[-1].headers())["headwater.redacted"] == b"true"


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
