"""The live demo: stack + worker + real data streaming in + fresh answers coming out.

Feeds wiki100 articles (documents), jeopardy records (app events) and the occupancy
sensor CSV (readings) into Kafka at a steady pace, and every few seconds plants a
brand-new fact and shows how long it takes to become the top hit of a question,
with its citation. Ctrl-C stops the feeders and the worker; the stack and data stay.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from connectors.producer import Producer
from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading
from streams.harness.worker_process import Worker
from streams.observe.console import show
from streams.retrieve.search import Hit
from streams.settings import Settings

TENANT = "demo"


def planted_facts(seed: int | None = None) -> Iterator[tuple[AnyEvent, str, str]]:
    """(event, question, expected snippet): new facts that no dataset and no earlier run contains."""
    run = time.strftime("%H%M%S")
    rnd = random.Random(seed if seed is not None else time.time_ns())
    problems = ["the checkout page timed out", "a refund was charged twice", "the invoice PDF was empty",
                "the password reset mail never arrived", "the mobile app crashed at login"]
    for n in itertools.count(1):
        now = datetime.now(UTC)
        pump, temp = rnd.randint(100, 999), round(rnd.uniform(70, 95), 1)
        yield (SensorEvent(event_id=f"demo-{run}-pump-{n}", source="plant-gateway", tenant=TENANT, event_time=now,
                           payload=SensorReading(device_id=f"pump-{pump}", metric="temperature", value=temp,
                                                 unit="C", location="building A")),
               f"What temperature did pump {pump} in building A report?", f"{temp}")
        # Versions must grow across demo runs too: an older version than the indexed one is skipped.
        version, code = time.time_ns() // 1_000_000, rnd.randint(1000, 9999)
        yield (DocumentEvent(event_id=f"demo-{run}-memo-{n}", source="intranet", tenant=TENANT, event_time=now,
                             payload=Document(doc_id="vault-memo", title="Vault access memo", version=version,
                                              uri="intranet://memos/vault",
                                              text=f"Security memo. The access code of vault 7 is now {code}. "
                                                   "Share it only with the night shift.")),
               "What is the access code of vault 7?", f"{code}")
        ticket, problem = rnd.randint(10000, 99999), rnd.choice(problems)
        note = f"Ticket {ticket} was escalated to tier 2 because {problem}."
        yield (AppEventEnvelope(event_id=f"demo-{run}-ticket-{n}", source="helpdesk", tenant=TENANT, event_time=now,
                                payload=AppEvent(app="helpdesk", action="escalated", actor="support-bot",
                                                 message=note)),
               f"Why was ticket {ticket} escalated?", problem)


def background_events() -> Iterator[AnyEvent]:
    """Real data, interleaved: documents, app events and sensor readings."""
    from connectors import datasets

    docs = datasets.wiki_events(TENANT, 20)
    apps = datasets.jeopardy_events(TENANT, 1000)
    sensors = datasets.occupancy_events(TENANT, 509)
    for i in itertools.count():
        if i % 150 == 0 and docs:
            yield docs.pop(0)
        if apps:
            yield apps.pop(0)
        if i % 2 == 0 and sensors:
            yield sensors.pop(0)
        if not (docs or apps or sensors):
            return


async def _feed(producer: Producer, settings: Settings, rate: float, counts: dict[str, int]) -> None:
    for event in background_events():
        await producer.send_event(settings.topics.for_kind(event.kind.value), event)
        counts[event.kind.value] = counts.get(event.kind.value, 0) + 1
        await asyncio.sleep(1 / rate)


async def _answer(find: Callable[[str], list[Hit]], question: str, event_id: str,
                  timeout: float) -> tuple[float, Hit | None]:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        hits = await asyncio.to_thread(find, question)
        if hits and hits[0].citation.event_id == event_id:
            return time.monotonic() - start, hits[0]
        await asyncio.sleep(0.05)
    return timeout, None


async def _live(settings: Settings, producer: Producer, find: Callable[[str], list[Hit]], worker: Worker,
                counts: dict[str, int], every_s: float, duration_s: float | None) -> list[float]:
    fresh: list[float] = []
    started = time.monotonic()
    for event, question, snippet in planted_facts():
        if duration_s is not None and time.monotonic() - started > duration_s:
            break
        await producer.send_event(settings.topics.for_kind(event.kind.value), event)
        took, hit = await _answer(find, question, event.event_id, timeout=30)
        m = worker.metrics()
        lat = m["freshness_s"]
        show(f"\nQ: {question}")
        if hit is None:
            show("A: (not yet found after 30 s; see the worker log)")
        else:
            fresh.append(took)
            c = hit.citation
            show(f"A: {hit.text[:160]}")
            show(f"   answerable {took:.2f}s after produce; cites {hit.kind} {c.doc_id or c.event_id}"
                 f"{' v' + str(c.doc_version) if c.doc_id else ''} ({c.kafka_topic}/{c.kafka_partition}"
                 f"@{c.kafka_offset}), expected '{snippet}': {'yes' if snippet in hit.text else 'NO'}")
        show(f"   streamed so far: {counts}; worker: {m['counts'].get('events', 0)} events, "
             f"{m['counts'].get('chunks.written', 0)} chunks, freshness p50 {lat['p50']:.2f}s p99 {lat['p99']:.2f}s")
        await asyncio.sleep(every_s)
    return fresh


def _report_feed_stop(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        show(f"[demo] background feed stopped: {task.exception()!r}")


def run(settings: Settings, rate: float = 20.0, every_s: float = 4.0, duration_s: float | None = None) -> int:
    """Start everything and stream until Ctrl-C (or ``duration_s``); returns an exit code."""
    from connectors.weaviate.client import connect
    from streams import embed, stack
    from streams.retrieve.search import SearchRequest, search
    from streams.stack.process import port_open

    if not port_open("127.0.0.1", settings.stack.kafka_port) or not port_open(settings.weaviate.host,
                                                                          settings.weaviate.http_port):
        stack.up(settings)
    logs = settings.stack.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    worker = Worker.create(settings, "demo", logs, isolated=False)
    show(f"[demo] starting the worker (log: {worker.log_path}); loading the model ...")
    worker.start()
    embedder = embed.load(settings.embed)
    client = connect(settings.weaviate)
    producer = Producer(settings.kafka, client_id="headwater-demo")

    def find(question: str) -> list[Hit]:
        req = SearchRequest(query=question, tenant=TENANT, k=3)
        return search(client, embedder, settings.weaviate.collection, req, settings.search.alpha)

    counts: dict[str, int] = {}
    show(f"[demo] streaming wiki100 documents, jeopardy app events and occupancy readings at {rate:.0f}/s; "
         "planting a new fact every few seconds. Ctrl-C to stop.")

    async def main() -> list[float]:
        feeder = asyncio.create_task(_feed(producer, settings, rate, counts))
        feeder.add_done_callback(_report_feed_stop)
        try:
            return await _live(settings, producer, find, worker, counts, every_s, duration_s)
        finally:
            feeder.cancel()

    fresh: list[float] = []
    try:
        fresh = asyncio.run(main())
    except KeyboardInterrupt:
        show("\n[demo] stopping ...")
    finally:
        producer.close()
        client.close()
        worker.kill(signal.SIGTERM)
    if fresh:
        show(f"[demo] {len(fresh)} planted facts answered; median {statistics.median(fresh):.2f}s after produce, "
             f"max {max(fresh):.2f}s")
    show("[demo] worker stopped; the stack and the indexed data stay (`headwater stack down` to stop it).")
    return 0 if fresh else 1
