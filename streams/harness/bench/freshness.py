"""``headwater bench --lanes / --sensors / --edits``: freshness under load, sensor throughput, edit latency.

Each figure is measured on a fresh worker (own topics, collection and embedding cache):

- lanes: a backfill of N wiki100 articles produced at once while app events and sensor
  readings arrive at a steady rate; the worker's own freshness p99 per lane (Kafka
  timestamp to written in Weaviate) and the documents' chunks/s;
- sensors: N readings of a fleet produced as fast as Kafka takes them, with
  ``curate.sensor_readings=state`` (and ``index`` for comparison): readings/s until the
  worker committed the last one, and the state lane's freshness p99;
- edits: a 100-document corpus, then one sentence of one document changed, several
  times: seconds from produce until the new sentence is stored (p50/p99), and the objects
  written when the whole unchanged corpus is sent again (goal 0).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import Producer as KafkaProducer

from connectors.producer import producer_config
from schemas import AnyEvent, AppEvent, AppEventEnvelope, DocumentEvent, SensorEvent, SensorReading
from streams.harness.bench import cpu
from streams.observe.console import say
from streams.observe.metrics import percentile
from streams.settings import Settings


def _worker(settings: Settings, **overrides: str) -> Any:
    from streams.harness.bench.throughput import fresh_worker

    logs = settings.stack.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return fresh_worker(settings, logs, **overrides)


def _stop(w: Any) -> None:
    w.kill(signal.SIGTERM)
    w.drop()


def readings(n: int, devices: int, tenant: str, start: datetime, first: int = 0) -> list[AnyEvent]:
    """Readings ``first`` .. ``first + n - 1`` of a fleet, 1 ms apart from ``start``, every series in turn."""
    metrics = ("temperature", "humidity")
    return [SensorEvent(event_id=f"r-{i}", source="bench", tenant=tenant,
                        event_time=start + timedelta(milliseconds=i - first),
                        payload=SensorReading(device_id=f"dev-{i % devices}", metric=metrics[(i // devices) % 2],
                                              value=20.0 + (i % 97) / 10, unit="C", location=f"hall {i % devices % 7}"))
            for i in range(first, first + n)]


def _app(i: int, tenant: str) -> AnyEvent:
    return AppEventEnvelope(event_id=f"a-{i}", source="bench", tenant=tenant, event_time=datetime.now(UTC),
                            payload=AppEvent(app="shop", action="order", actor=f"user{i % 50}",
                                             message=f"Order {1000 + i} for {i % 9 + 1} items was paid."))


def lanes(settings: Settings, docs: int = 100, rate: float = 10.0) -> dict[str, float]:
    """Urgent-lane freshness while a document backfill runs."""
    from connectors import datasets

    w = _worker(settings)
    stop = threading.Event()

    def steady() -> None:
        i = 0
        while not stop.is_set():
            t0 = datetime.now(UTC)
            w.send([_app(i, "bench-lanes"), readings(1, 1, "bench-lanes", t0)[0].model_copy(
                update={"event_id": f"s-{i}"})])
            i += 1
            time.sleep(max(0.0, 2 / rate - (datetime.now(UTC) - t0).total_seconds()))

    try:
        feeder = threading.Thread(target=steady, daemon=True)
        feeder.start()
        time.sleep(3)
        start = time.monotonic()
        w.send(datasets.wiki_events("bench-lanes", docs))
        say(f"[bench] lanes: {docs} articles produced at once; {rate:.0f} app/sensor events/s meanwhile")
        w.settle(timeout_s=3600)
        took = time.monotonic() - start
        stop.set()
        feeder.join(10)
        w.settle()
        m = w.metrics()
        lanes_ = m["freshness_s_by_lane"]
        return {"docs": docs, "backfill_s": took, "doc_chunks_s": m["counts"].get("chunks.written", 0) / took,
                "urgent_p50_s": lanes_["urgent"]["p50"], "urgent_p99_s": lanes_["urgent"]["p99"],
                "urgent_n": lanes_["urgent"]["n"], "readings_p50_s": lanes_["readings"]["p50"],
                "readings_p99_s": lanes_["readings"]["p99"], "readings_n": lanes_["readings"]["n"],
                "bulk_p99_s": lanes_.get("bulk", {}).get("p99", 0.0)}
    finally:
        stop.set()
        _stop(w)


def sensors(settings: Settings, n: int = 20_000, devices: int = 500, mode: str = "state",
            rate: float = 5000.0, paced_s: float = 10.0) -> dict[str, float]:
    """Readings/s the worker sustains, and how fresh the current state stays at a given rate.

    Every series is seen once first (its description is embedded once, as in a running fleet).
    Throughput: ``n`` readings wait in Kafka while the worker is stopped; readings/s from the
    worker's restart (ready) until it committed the last one, so the producer's pace is not
    measured. Freshness: a fresh worker under a paced stream of ``rate`` readings/s for
    ``paced_s`` seconds; the p99 of Kafka timestamp to written, as the worker measures it.
    """
    from schemas import encode, message_key

    w = _worker(settings, HEADWATER_CURATE__SENSOR_READINGS=mode, HEADWATER_EMBED__BATCH_MAX_EVENTS="20000")
    topic = w.settings.topics.sensor
    tenant = "bench-sensors"
    try:
        series = 2 * devices
        say(f"[bench] sensors ({mode}): {series} series first seen (one embedding each)")
        w.send(readings(series, devices, tenant, datetime.now(UTC) - timedelta(hours=1)))
        w.settle(timeout_s=600)
        w.kill(signal.SIGTERM)
        # In the past: the paced readings that follow must be the newer ones of each series.
        backlog = [(message_key(e), encode(e))
                   for e in readings(n, devices, tenant, datetime.now(UTC) - timedelta(milliseconds=n), series)]
        w.produce(topic, backlog)
        say(f"[bench] sensors ({mode}): {n} readings waiting in Kafka; worker restarted")
        w.start()
        start = time.monotonic()
        w.settle(timeout_s=1800)
        took = time.monotonic() - start
        m = w.metrics()
        f = {f"sensor_{mode}_readings_s": n / took, f"sensor_{mode}_batches": float(m["counts"].get("batches", 0)),
             f"sensor_{mode}_rss_mb": w.peak_rss_mb()}
        f |= {f"sensor_{mode}_{k}_s": float(v) for k, v in m["seconds"].items()}
        paced = rate if mode == "state" else rate / 10
        f |= _paced_figures(settings, w, f"sensor_{mode}_paced", tenant, devices, paced, paced_s)
        if mode == "state":
            # The same rate from a fleet a tenth the size: as many readings, a tenth of the states to rewrite.
            small = max(1, devices // 10)
            w.send(readings(2 * small, small, f"{tenant}-small", datetime.now(UTC) - timedelta(hours=1)))
            w.settle(timeout_s=600)
            f |= _paced_figures(settings, w, f"sensor_state_paced_{2 * small}_series", f"{tenant}-small", small,
                                paced, paced_s)
        return f
    finally:
        _stop(w)


def _paced_figures(settings: Settings, w: Any, name: str, tenant: str, devices: int, rate: float,
                   seconds: float) -> dict[str, float]:
    w.kill(signal.SIGTERM)
    w.start()  # fresh metrics: what came before must not count as freshness
    lat, used = _paced(settings, w, w.settings.topics.sensor, tenant, devices, rate, seconds)
    f = {f"{name}_rate": rate, f"{name}_p50_s": float(lat.get("p50", 0.0)), f"{name}_p99_s": float(lat.get("p99", 0.0))}
    # Where the two cores went, and Weaviate's share per current state it rewrote.
    f |= {f"{name}_cpu_{process}_s": v for process, v in used.items()}
    if "weaviate" in used:
        written = max(1.0, float(w.metrics()["counts"].get("chunks.written", 0)))
        f[f"{name}_weaviate_ms_per_object"] = 1000 * used["weaviate"] / written
    return f


def _paced(settings: Settings, w: Any, topic: str, tenant: str, devices: int, rate: float, seconds: float
           ) -> tuple[dict[str, float], dict[str, float]]:
    """Produce ``rate`` readings/s for ``seconds``: the worker's readings-lane freshness afterwards, and the
    CPU seconds the worker, Weaviate, Kafka and this load generator used meanwhile.

    The readings are made and encoded before the clock starts: on 2 cores, a load generator that
    builds its records while it sends takes the CPU the worker is measured on.
    """
    from schemas import encode, message_key

    n = int(rate * seconds)
    step = max(1, int(rate / 20))  # 20 bursts per second
    start = datetime.now(UTC) + timedelta(seconds=2)  # event times as sent: each reading is a series' newest
    records = [(message_key(e), encode(e)) for e in readings(n, devices, tenant, start, first=10_000_000)]
    say(f"[bench] sensors: {rate:.0f} readings/s for {seconds:.0f} s, state freshness measured by the worker")
    # As lean as librdkafka: the connectors' Producer settles a future per record, about 80 us of Python
    # each, which on 2 cores the load generator would take from the worker it measures.
    failed: list[str] = []

    def delivered(err: Any, _: Any) -> None:
        if err is not None:
            failed.append(str(err))

    load = KafkaProducer(producer_config(settings.kafka, "headwater-bench-load", linger_ms=1))
    meter = cpu.Meter(settings, worker=w.proc.pid, bench=os.getpid())  # the stack's, not the worker's data dir
    t0 = time.monotonic()
    for sent in range(0, n, step):
        time.sleep(max(0.0, t0 + sent / rate - time.monotonic()))
        for key, value in records[sent:sent + step]:
            load.produce(topic, value, key, on_delivery=delivered)
        load.poll(0)
    if load.flush(60) or failed:
        raise RuntimeError(f"Kafka did not take every reading: {len(load)} unsent, {len(failed)} refused "
                           f"({failed[:1]}); see the broker log under {settings.stack.data_dir / 'logs'}")
    w.settle(timeout_s=600)
    used = meter.stop()
    lat: dict[str, float] = w.metrics()["freshness_s_by_lane"].get("readings", {})
    return lat, used


def edits(settings: Settings, docs: int = 100, rounds: int = 10) -> dict[str, float]:
    """Edit-to-searchable seconds for one changed sentence, and what re-sending the corpus writes."""
    from connectors import datasets
    from connectors.weaviate import query
    from connectors.weaviate.client import connect

    w = _worker(settings)
    client = connect(settings.weaviate)
    try:
        corpus: list[DocumentEvent] = [e for e in datasets.wiki_events("bench-edits", docs)
                                       if isinstance(e, DocumentEvent)]
        w.send(corpus)
        w.settle(timeout_s=3600)
        before = w.metrics()["counts"].get("chunks.written", 0)
        w.send([e.model_copy(update={"event_id": e.event_id + "-again"}) for e in corpus])
        w.settle()
        rewritten = w.metrics()["counts"].get("chunks.written", 0) - before
        took = [_edit(w, client, query, corpus[i % len(corpus)], i) for i in range(rounds)]
        return {"edit_p50_s": percentile(took, 50), "edit_p99_s": percentile(took, 99),
                "unchanged_resend_objects_written": float(rewritten)}
    finally:
        client.close()
        _stop(w)


def _edit(w: Any, client: Any, query: Any, doc: DocumentEvent, i: int) -> float:
    marker = f"Headwater edit number {i} changed this sentence."
    text = doc.payload.text
    cut = text.find(". ", len(text) // 2) + 2
    edited = doc.model_copy(update={"event_id": f"{doc.event_id}-edit{i}", "payload": doc.payload.model_copy(
        update={"text": text[:cut] + marker + " " + text[cut:], "version": doc.payload.version + 1 + i})})
    start = time.monotonic()
    w.send([edited])
    name = w.settings.weaviate.collection
    while time.monotonic() - start < 60:
        if any(marker in o["text"] for o in query.document(client, name, doc.tenant, doc.payload.doc_id, ["text"])):
            return time.monotonic() - start
        time.sleep(0.05)
    return float("inf")


def report(f: dict[str, float]) -> None:
    for key, value in f.items():
        print(f"  {key:34} {value:12.3f}")


def cleanup(settings: Settings) -> None:
    import shutil

    shutil.rmtree(Path(settings.stack.data_dir) / "bench-cache", ignore_errors=True)
