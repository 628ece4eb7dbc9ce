"""``headwater chaos``: a seeded stream of events under faults, compared with the independent oracle.

Streams a seeded mix of sensor readings, app events and documents (upserts, one-sentence
edits, shrinks and deletes with versions) into a consumer group of workers on 6
partitions. Meanwhile, on a timeline: SIGKILLs a worker (and restarts it) ``kills``
times, stops Weaviate for ``outage_s`` seconds, and rebalances by adding and later
removing a second worker. Then it waits until the group committed everything and
compares Weaviate with :func:`streams.harness.expected.expected_index` over the event
log: missing, stale, orphan and duplicate objects (goal: all 0). It also reports the
longest time any partition with a backlog made no progress (goal: under 25 s).
"""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors import datasets, kafka_admin
from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading
from streams.harness.expected import Curating, compare, expected_index
from streams.harness.worker_process import Worker
from streams.observe.console import say
from streams.settings import Settings

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def events(n: int, seed: int = 7, tenant: str = "chaos") -> list[AnyEvent]:
    """``n`` events: 70 % readings of 40 series, 20 % app events, 10 % document changes of 30 documents."""
    rnd = random.Random(seed)
    pool = [s.strip() + "." for i in range(6) for s in datasets.wiki_article(i).replace("\n", " ").split(". ")
            if len(s.split()) > 6]
    jeo = datasets.jeopardy()
    docs: dict[str, tuple[int, list[int]]] = {}
    out: list[AnyEvent] = []
    for i in range(n):
        when = T0 + timedelta(seconds=i)
        roll = rnd.random()
        if roll < 0.7:
            out.append(SensorEvent(event_id=f"r{i}", source="chaos", tenant=tenant, event_time=when - timedelta(
                seconds=rnd.randrange(30)), payload=SensorReading(device_id=f"dev-{rnd.randrange(20)}",
                                                                   metric=rnd.choice(("temperature", "co2")),
                                                                   value=round(rnd.uniform(15, 30), 1), unit="C")))
        elif roll < 0.9:
            r = jeo[i % len(jeo)]
            out.append(AppEventEnvelope(event_id=f"a{i}", source="chaos", tenant=tenant, event_time=when,
                                        payload=AppEvent(app="quiz", action="asked", message=(
                                            f"Event {i}. Category: {r['Category']}. Question: {r['Question']}"))))
        else:
            out.append(_doc_change(rnd, docs, pool, i, when, tenant))
    return out


def _doc_change(rnd: random.Random, docs: dict[str, tuple[int, list[int]]], pool: list[str], i: int,
                when: datetime, tenant: str) -> DocumentEvent:
    k = rnd.randrange(30)
    doc_id = f"doc-{k}"
    # Each document draws from sentences of its own: copies across documents would make "which copy
    # is kept" depend on how partitions interleave, which no oracle of the log can know.
    mine = range(k * len(pool) // 30, (k + 1) * len(pool) // 30)
    version, sentences = docs.get(doc_id, (0, []))
    roll = rnd.random()
    if sentences and roll < 0.1:
        deleted, version = True, version + 1
    elif sentences and roll < 0.6:
        sentences = list(sentences)
        sentences[rnd.randrange(len(sentences))] = rnd.choice(mine)  # one sentence edited
        deleted, version = False, version + rnd.choice((0, 1))  # a re-send with the same version, or a new one
    elif sentences and roll < 0.7:
        sentences, deleted, version = sentences[: max(1, len(sentences) // 2)], False, version + 1  # shrink
    else:
        sentences, deleted, version = sorted(rnd.sample(mine, rnd.randrange(2, len(mine)))), False, version + 1
    docs[doc_id] = (version, [] if deleted else sentences)
    text = " ".join(pool[j] for j in sentences) if not deleted else ""
    return DocumentEvent(event_id=f"d{i}", source="chaos", tenant=tenant, event_time=when,
                         payload=Document(doc_id=doc_id, title=doc_id, text=text, version=version, deleted=deleted))


class Progress:
    """Samples the group's committed offsets; remembers the longest stall of a partition with a backlog."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.longest, self.stop = settings, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        since: dict[tuple[str, int], tuple[int, float]] = {}
        while not self.stop.wait(0.5):
            try:
                for tp, (done, end) in _positions(self.settings).items():
                    now = time.monotonic()
                    last = since.get(tp)
                    if done >= end or last is None or done != last[0]:
                        since[tp] = (done, now)
                    else:
                        self.longest = max(self.longest, now - last[1])
            except Exception:  # noqa: BLE001,S112 - a sample during a broker hiccup is skipped, not fatal
                continue


def _positions(settings: Settings) -> dict[tuple[str, int], tuple[int, int]]:
    """(committed, end) offset of every input partition, each in the consumer group that commits it."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for group, topics in settings.consumer_groups().items():
        for topic in topics:
            ends = kafka_admin.end_offsets(settings.kafka, topic)
            done = kafka_admin.committed(settings.kafka, group, [(topic, p) for p in ends])
            out |= {(topic, p): (done.get((topic, p), 0), end) for p, end in ends.items()}
    return out


def run(settings: Settings, n: int = 100_000, *, kills: int = 5, outage_s: float = 30.0, rate: float = 400.0,
        seed: int = 7) -> dict[str, float]:
    """Run the chaos scenario once; returns the figures (also printed by the CLI)."""
    from connectors.weaviate import query
    from connectors.weaviate.client import connect
    from streams import embed
    from streams.stack.weaviate import Weaviate

    log_dir = settings.stack.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    w1 = Worker.create(settings, f"chaos{uuid.uuid4().hex[:6]}", log_dir, partitions=6)
    stream = events(n, seed)
    say(f"[chaos] {n} events, {kills} kills, a {outage_s:.0f} s Weaviate outage, a rebalance; log: {w1.log_path}")
    w1.start()
    progress = Progress(w1.settings)
    progress.thread.start()
    done = threading.Event()
    producer = threading.Thread(target=_produce, args=(w1, stream, rate, done), daemon=True)
    producer.start()
    started = time.monotonic()
    try:
        _faults(w1, Weaviate(settings), kills, outage_s, lambda: done.is_set())
        producer.join()
        w1.settle(timeout_s=1800)
        progress.stop.set()
        embedder = embed.load(settings.embed, settings.stack.cache_dir)
        s = w1.settings
        max_tokens = min(s.chunk.max_tokens, embedder.max_tokens)
        want = expected_index(stream, embedder.token_counter(), max_tokens=max_tokens,
                              overlap_tokens=min(s.chunk.overlap_tokens, max_tokens // 2),
                              curating=Curating(near_threshold=s.curate.near_threshold))
        client = connect(s.weaviate)
        try:
            stored = query.objects(client, s.weaviate.collection, "chaos",
                                   ["event_id", "text", "doc_id", "chunk_index", "record_type", "kind"])
        finally:
            client.close()
        diff = compare(want, stored)
        return {"events": n, "seconds": time.monotonic() - started, "expected_objects": len(want),
                "stored_objects": len(stored), **diff.counts(), "longest_stall_s": progress.longest}
    finally:
        progress.stop.set()
        w1.kill(signal.SIGTERM)
        w1.drop()


def _produce(w: Worker, stream: list[AnyEvent], rate: float, done: threading.Event) -> None:
    start = time.monotonic()
    for i in range(0, len(stream), 50):
        w.send(stream[i:i + 50])
        time.sleep(max(0.0, start + (i + 50) / rate - time.monotonic()))
    done.set()


def _faults(w1: Worker, weaviate: Any, kills: int, outage_s: float, finished: Callable[[], bool]) -> None:
    """The timeline: kills spread over the run, the outage after the second kill, a rebalance after."""
    w2: Worker | None = None
    for k in range(kills):
        time.sleep(6)
        say(f"[chaos] SIGKILL worker ({k + 1}/{kills})")
        w1.kill(signal.SIGKILL)
        w1.start()
        if k == 1 and outage_s > 0 and weaviate.proc.stop():
            say(f"[chaos] Weaviate stopped for {outage_s:.0f} s")
            time.sleep(outage_s)
            weaviate.start()
            _wait(weaviate.ready, 90)
        if k == 2:
            say("[chaos] a second worker joins the group (rebalance)")
            w2 = w1.sibling("second")
            w2.start()
    if w2 is not None:
        time.sleep(5)
        say("[chaos] the second worker leaves (rebalance)")
        w2.kill(signal.SIGTERM)


def _wait(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not check():
        time.sleep(0.3)
