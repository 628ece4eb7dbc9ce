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
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from schemas import (AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent,
                     SensorReading)
from streams.settings import Settings

TENANT = "demo"


def _say(msg: str) -> None:
    print(msg, flush=True)


def planted_facts(seed: int = 7) -> Iterator[tuple[AnyEvent, str, str]]:
    """(event, question, expected snippet): new facts no dataset contains."""
    rnd = random.Random(seed)
    for n in itertools.count(1):
        now = datetime.now(UTC)
        pump, temp = rnd.randint(1, 9), round(rnd.uniform(70, 95), 1)
        yield (SensorEvent(event_id=f"demo-pump-{n}", source="plant-gateway", tenant=TENANT, event_time=now,
                           payload=SensorReading(device_id=f"pump-{pump}", metric="temperature", value=temp,
                                                 unit="C", location="building A")),
               f"What temperature did pump {pump} in building A report?", f"{temp}")
        version, code = n, rnd.randint(1000, 9999)
        yield (DocumentEvent(event_id=f"demo-memo-v{version}", source="intranet", tenant=TENANT, event_time=now,
                             payload=Document(doc_id="vault-memo", title="Vault access memo", version=version,
                                              uri="intranet://memos/vault",
                                              text=f"Security memo. The access code of vault 7 is now {code}. "
                                                   "Share it only with the night shift.")),
               "What is the access code of vault 7?", f"{code}")
        svc, ver = rnd.choice(["billing", "search", "checkout"]), f"{rnd.randint(2, 9)}.{rnd.randint(0, 30)}"
        yield (AppEventEnvelope(event_id=f"demo-deploy-{n}", source="ci", tenant=TENANT, event_time=now,
                                payload=AppEvent(app="deployer", action="deployed", actor="release-bot",
                                                 message=f"Service {svc} version {ver} was deployed to production.")),
               f"Which version of {svc} is in production?", ver)


def background_events() -> Iterator[AnyEvent]:
    """Real data, interleaved: documents, app events and sensor readings."""
    from tests_data import jeopardy_events, occupancy_events, wiki_events  # type: ignore[import-not-found]

    docs, apps, sensors = wiki_events(TENANT, 20), jeopardy_events(TENANT, 1000), occupancy_events(TENANT, 509)
    for i in itertools.count():
        if i % 40 == 0 and docs:
            yield docs.pop(0)
        if apps:
            yield apps.pop(0)
        if i % 2 == 0 and sensors:
            yield sensors.pop(0)
        if not (docs or apps or sensors):
            return


async def _feed(producer: object, settings: Settings, events: Iterator[AnyEvent], rate: float,
                counts: dict[str, int]) -> None:
    topics = {"sensor": settings.topics.sensor, "app": settings.topics.app, "document": settings.topics.document}
    for event in events:
        await producer.send_event(topics[event.kind.value], event)  # type: ignore[attr-defined]
        counts[event.kind.value] = counts.get(event.kind.value, 0) + 1
        await asyncio.sleep(1 / rate)


async def _ask(search: Callable[[str], list[object]], question: str, snippet: str, event_id: str,
               timeout: float) -> tuple[float, object | None]:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        hits = await asyncio.to_thread(search, question)
        if hits and hits[0].citation.event_id == event_id:  # type: ignore[attr-defined]
            return time.monotonic() - start, hits[0]
        await asyncio.sleep(0.1)
    return timeout, None
