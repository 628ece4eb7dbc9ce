"""``headwater chaos``: a seeded stream of events under faults, compared with the independent oracle.

Streams a seeded mix of sensor readings, app events and documents (upserts, one-sentence
edits, shrinks and deletes with versions) into a consumer group of workers on 6
partitions. While it flows (:mod:`streams.harness.chaos.faults`: every fault lands, and is
over, before the stream's last event, or the run fails): SIGKILLs a worker ``kills`` times and
restarts it, stops Weaviate for ``outage_s`` seconds with a SIGKILL of the worker halfway
through, restarts the Kafka broker, and rebalances by adding and later removing a second
worker. Then it waits until the group committed everything and compares Weaviate with
:mod:`streams.harness.oracle` over the event log: missing, stale, orphan and duplicate
(goal: all 0; the first findings name entity and event). It also reports the longest time
any partition with a backlog made no progress.
"""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors import datasets, kafka_admin
from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading
from streams.harness.chaos.faults import Faults, Stream, check, run_timeline, timeline
from streams.harness.oracle import Diff, compare, expected, stored
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
        seed: int = 7, broker_restart: bool = True) -> dict[str, Any]:
    """Run the chaos scenario once; returns the figures (also printed by the CLI) and, under
    ``findings``, the oracle's first findings of each kind."""
    log_dir = settings.stack.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    w1 = Worker.create(settings, f"chaos{uuid.uuid4().hex[:6]}", log_dir, partitions=6)
    log = events(n, seed)
    plan = timeline(kills, outage_s, broker_restart)
    say(f"[chaos] {n} events (seed {seed}); faults while they flow: {', '.join(f'{f} {a:.0%}' for a, f in plan)}; "
        f"log: {w1.log_path}")
    w1.start()
    progress = Progress(w1.settings)
    progress.thread.start()
    stream, faults = Stream(w1.settings, log, rate), Faults(w1, settings, outage_s)
    stream.release(plan[0][0] if plan else 1.0)
    stream.thread.start()
    started = time.monotonic()
    try:
        landed = run_timeline(stream, faults, plan)
        stream.wait_sent(1.0)
        check(landed, stream.ended)
        faults.close()
        _settle(w1, 1800)
        progress.stop.set()
        diff, stored_n, want_n = _oracle(w1, log)
        return {"events": n, "seed": seed, "faults": len(landed), "stream_s": stream.ended - started,
                "seconds": time.monotonic() - started, "expected_entities": want_n, "stored_objects": stored_n,
                **diff.counts(), "longest_stall_s": progress.longest, "findings": diff.report()}
    finally:
        stream.stop()
        progress.stop.set()
        faults.close()
        w1.kill(signal.SIGTERM)
        w1.drop()


def _settle(w: Worker, timeout_s: float) -> None:
    """Wait until the group committed everything; fail at once if the worker died."""
    deadline = time.monotonic() + timeout_s
    while True:
        if w.proc is None or w.proc.poll() is not None:
            raise RuntimeError(f"the worker exited before it caught up; see {w.log_path}")
        try:
            return w.settle(timeout_s=min(10.0, max(1.0, deadline - time.monotonic())))
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def _oracle(w: Worker, log: list[AnyEvent]) -> tuple[Diff, int, int]:
    """The oracle's findings, how many objects Weaviate holds, how many entities the oracle expects."""
    from connectors.weaviate.client import connect

    s = w.settings
    want = expected(log, readings=s.curate.sensor_readings == "index", states=s.curate.sensor_current_state)
    client = connect(s.weaviate)
    try:
        objects = stored(client, s.weaviate.collection, want.tenants)
    finally:
        client.close()
    return compare(want, objects), sum(len(v) for v in objects.values()), len(want.live)
