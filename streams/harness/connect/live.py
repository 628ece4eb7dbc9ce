"""Connector benchmark cases against live servers: MQTT through Mosquitto, HTTP ingest under uvicorn."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from streams.harness.connect.kit import (
    HTTP_BATCH,
    HTTP_CLIENTS,
    JSON,
    MQTT_AHEAD,
    Result,
    _Case,
    _count_once,
    _producer,
)
from streams.harness.serving import serving
from streams.observe.metrics import percentile

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
    held, last = -1, time.monotonic()
    while held < n and time.monotonic() - last < stall_s:
        now = await asyncio.to_thread(_count_once, s, topic)
        if now > held:
            held, last = now, time.monotonic()
        await asyncio.sleep(0.05)
    return held, last - start


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
            serving(create_ingest_api(s, producer), name="bench-uvicorn") as url:
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
    return {"p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}
