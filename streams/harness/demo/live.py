"""The live demo: stack + worker + real data streaming in + fresh answers coming out.

Feeds wiki100 articles (documents), jeopardy records (app events) and the occupancy
sensor CSV (readings) into Kafka at a steady pace, and every few seconds plants a
brand-new fact and shows how long it takes to become the top hit of a question,
with its citation. Ctrl-C stops the feeders and the worker; the stack and data stay.
"""

from __future__ import annotations

import asyncio
import math
import re
import signal
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.producer import Producer
from schemas import AnyEvent
from streams.harness.demo.stream import TENANT, background_events, burst_events, planted_facts
from streams.harness.worker_process import Worker
from streams.observe.console import show
from streams.retrieve.search import Hit
from streams.settings import Settings

ANSWER_TIMEOUT_S = 30.0
BURST_AFTER = 3  # planted facts answered before the document burst
# A number as text states it: "81", "81.2", "-5"; not the "-7" of "pump-7", not a version's ".3".
NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?")
Metrics = Mapping[str, Any]  # the worker's /metrics JSON: counts, seconds (per stage), freshness_s


def mentions(text: str, expected: str) -> bool:
    """Whether ``text`` states ``expected``: a number by value ("81.0" is in "81 °C"), other text case-blind."""
    if not NUMBER.fullmatch(expected.strip()):
        return expected.casefold() in text.casefold()
    want = float(expected)
    return any(math.isclose(float(n), want, rel_tol=1e-9, abs_tol=1e-9) for n in NUMBER.findall(text))


def worker_line(m: Metrics | None) -> str:
    """The worker's own counters, or "starting" while its metrics page does not answer yet.

    Freshness is of what reached Kafka while the worker ran: records left by an earlier run
    waited for no worker at all, and are counted apart.
    """
    if m is None:
        return "worker: starting"
    counts, lat = m.get("counts", {}), m.get("freshness_s_live", m.get("freshness_s", {}))
    backlog = int(counts.get("backlog", 0))
    return (f"worker: {counts.get('events', 0)} events, {counts.get('chunks.written', 0)} chunks, "
            f"freshness p50 {lat.get('p50', 0.0):.2f}s p99 {lat.get('p99', 0.0):.2f}s"
            + (f" (and {backlog} objects from records older than the worker, left by an earlier run)"
               if backlog else ""))


def explain_late(lag: Mapping[str, int] | None, before: Metrics | None, now: Metrics | None, waited_s: float) -> str:
    """Why an answer is late: the worker's backlog, and what it did while we waited (from its counters)."""
    if lag is None:
        backlog = "backlog unknown (Kafka did not answer the lag query)"
    else:
        waiting = {topic: n for topic, n in lag.items() if n > 0}
        backlog = f"{sum(waiting.values())} records wait for the worker" + (
            f" ({', '.join(f'{t}: {n}' for t, n in waiting.items())})" if waiting else "")
    if now is None:
        return f"{backlog}; its metrics page does not answer (still loading the model?)"
    return f"{backlog}; {_activity(before or {}, now, waited_s)}"


def _activity(before: Metrics, now: Metrics, waited_s: float) -> str:
    def delta(section: str, key: str) -> float:
        return float(now.get(section, {}).get(key, 0)) - float(before.get(section, {}).get(key, 0))

    events = int(delta("counts", "events"))
    stages = {k: delta("seconds", k) for k in now.get("seconds", {})}
    busiest = max(stages, key=lambda k: stages[k], default=None)
    out = f"in the last {waited_s:.0f} s it indexed {events} events"
    if busiest is not None and stages[busiest] > 0:
        out += f", most time in {busiest} ({stages[busiest]:.1f} s)"
    retries = int(delta("counts", "upsert.retries") + delta("counts", "upsert.errors"))
    return out + (f"; {retries} Weaviate writes retried (see the worker log)" if retries else "")


@dataclass
class _Demo:
    settings: Settings
    producer: Producer
    find: Callable[[str], list[Hit]]
    worker: Worker
    counts: dict[str, int] = field(default_factory=dict)
    fresh: list[float] = field(default_factory=list)  # seconds from produce to top hit, per answered fact
    during_burst: list[float] = field(default_factory=list)  # the same, of facts asked while documents waited

    async def metrics(self) -> Metrics | None:
        try:
            return await asyncio.to_thread(self.worker.metrics)
        except (OSError, ValueError):  # not listening yet, or mid-restart: "starting"
            return None

    async def metrics_after(self) -> Metrics | None:
        """Counters once they show the batch we just found (they are bumped right after the write)."""
        m = await self.metrics()
        for _ in range(20):
            if m is None or m.get("counts", {}).get("events"):
                break
            await asyncio.sleep(0.1)
            m = await self.metrics()
        return m

    async def documents_waiting(self) -> int:
        return (await self.lag() or {}).get(self.settings.topics.document, 0)

    async def lag(self) -> dict[str, int] | None:
        from confluent_kafka import KafkaException

        from connectors import kafka_admin

        s = self.worker.settings
        try:
            return await asyncio.to_thread(kafka_admin.lags, s.kafka, s.consumer_groups())
        except (KafkaException, KeyError):  # coordinator still loading, topic not there yet: unknown for now
            return None


async def _feed(demo: _Demo, rate: float) -> None:
    for event in background_events():
        await demo.producer.send_event(demo.settings.topics.for_kind(event.kind.value), event)
        demo.counts[event.kind.value] = demo.counts.get(event.kind.value, 0) + 1
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


async def _ask(demo: _Demo, event: AnyEvent, question: str, expected: str) -> float | None:
    """Plant one fact, wait for it to be the top hit, and say what happened; seconds to answer or None."""
    before, waiting = await demo.metrics(), await demo.documents_waiting()
    await demo.producer.send_event(demo.settings.topics.for_kind(event.kind.value), event)
    took, hit = await _answer(demo.find, question, event.event_id, timeout=ANSWER_TIMEOUT_S)
    show(f"\nQ: {question}")
    if hit is None:
        now, lag = await demo.metrics(), await demo.lag()
        show(f"A: (not yet found after {ANSWER_TIMEOUT_S:.0f} s: {explain_late(lag, before, now, took)}; "
             f"log: {demo.worker.log_path})")
        show(f"   streamed so far: {demo.counts}; {worker_line(now)}")
        return None
    c = hit.citation
    show(f"A: {hit.text[:160]}")
    show(f"   answerable {took:.2f}s after produce; cites {hit.kind} {c.doc_id or c.event_id}"
         f"{' v' + str(c.doc_version) if c.doc_id else ''} ({c.kafka_topic}/{c.kafka_partition}"
         f"@{c.kafka_offset}), expected '{expected}': {'yes' if mentions(hit.text, expected) else 'NO'}")
    if waiting:
        demo.during_burst.append(took)
        show(f"   asked while {waiting} documents waited to be indexed: facts and short documents do not wait for them")
    show(f"   streamed so far: {demo.counts}; {worker_line(await demo.metrics_after())}")
    return took


async def _live(demo: _Demo, rate: float, every_s: float, duration_s: float | None, burst: int) -> None:
    feeder = asyncio.create_task(_feed(demo, rate))
    feeder.add_done_callback(_report_feed_stop)
    started = time.monotonic()
    try:
        for n, (event, question, expected) in enumerate(planted_facts(), 1):
            if duration_s is not None and time.monotonic() - started > duration_s:
                break
            took = await _ask(demo, event, question, expected)
            demo.fresh += [took] if took is not None else []
            if n == BURST_AFTER and burst:
                await _burst(demo, burst)
            await asyncio.sleep(every_s)
    finally:
        feeder.cancel()


async def _burst(demo: _Demo, n: int) -> None:
    """``n`` more wiki100 articles at once: a backfill that sensor and app facts must not wait behind.

    Only the first demo on an index has to embed them: later runs send the same versions, which the
    worker recognises and skips.
    """
    docs = burst_events(n)
    for event in docs:
        await demo.producer.send_event(demo.settings.topics.document, event)
    demo.counts["document"] = demo.counts.get("document", 0) + len(docs)
    chars = sum(len(e.payload.text) for e in docs)
    show(f"\n[demo] document burst: {len(docs)} wiki100 articles ({chars / 1e6:.1f} MB) produced at once; "
         "the next questions are asked while the worker indexes them")


def _report_feed_stop(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        show(f"[demo] background feed stopped: {task.exception()!r}")


def run(settings: Settings, rate: float = 20.0, every_s: float = 4.0, duration_s: float | None = None,
        burst: int = 15) -> int:
    """Start everything and stream until Ctrl-C (exit code 0) or ``duration_s`` (0 if a fact was answered)."""
    from streams import stack
    from streams.stack.process import port_open

    try:
        if not (port_open("127.0.0.1", settings.stack.kafka_port)
                and port_open(settings.weaviate.host, settings.weaviate.http_port)):
            stack.up(settings)
        logs = settings.stack.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        worker = Worker.create(settings, "demo", logs, isolated=False)
    except KeyboardInterrupt:
        return 0
    # Filled as facts are answered, so a Ctrl-C keeps them for the summary.
    fresh: list[float] = []
    during_burst: list[float] = []
    try:
        _with_worker(settings, worker, rate, every_s, duration_s, burst, fresh, during_burst)
    except KeyboardInterrupt:
        show("\n[demo] stopping ...")
        return 0
    finally:
        _stop(worker, fresh, during_burst)
    return 0 if fresh else 1


def _stop(worker: Worker, fresh: list[float], during_burst: list[float]) -> None:
    # A second Ctrl-C must not cut the clean stop short (the CLI exits right after, from the main thread).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        worker.kill(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGINT, previous)
    if fresh:
        show(f"[demo] {len(fresh)} planted facts answered; median {statistics.median(fresh):.2f}s after produce, "
             f"max {max(fresh):.2f}s")
    if during_burst:
        show(f"[demo] {len(during_burst)} of them asked while documents waited: median "
             f"{statistics.median(during_burst):.2f}s, max {max(during_burst):.2f}s")
    show("[demo] worker stopped; the stack and the indexed data stay (`headwater stack down` to stop it).")


def _with_worker(settings: Settings, worker: Worker, rate: float, every_s: float, duration_s: float | None,
                 burst: int, fresh: list[float], during_burst: list[float]) -> None:
    from connectors.weaviate.client import connect
    from streams import embed
    from streams.retrieve.search import SearchRequest, search

    show(f"[demo] starting the worker (log: {worker.log_path}); loading the model ...")
    worker.start()
    embedder = embed.load(settings.embed, settings.stack.cache_dir)
    client = connect(settings.weaviate)
    producer = Producer(settings.kafka, client_id="headwater-demo")

    def find(question: str) -> list[Hit]:
        req = SearchRequest(query=question, tenant=TENANT, k=3)
        return search(client, embedder, settings.weaviate.collection, req, settings.search.alpha)

    show(f"[demo] streaming wiki100 documents, jeopardy app events and occupancy readings at {rate:.0f}/s; "
         "planting a new fact every few seconds. Ctrl-C to stop.")
    try:
        asyncio.run(_live(_Demo(settings, producer, find, worker, fresh=fresh, during_burst=during_burst),
                          rate, every_s, duration_s, burst))
    finally:
        producer.close()
        client.close()
