"""What the live demo streams: real data in the background, planted facts, a document burst.

The background interleaves wiki100 articles (documents), jeopardy records (app events) and the
occupancy sensor CSV (readings); the planted facts are new every run, so no dataset and no
earlier run can answer them.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from schemas import AnyEvent, AppEvent, AppEventEnvelope, Document, DocumentEvent, SensorEvent, SensorReading

TENANT = "demo"
BACKGROUND_DOCS = 20  # wiki100 articles of the background stream; a burst takes the next ones


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

    docs = datasets.wiki_events(TENANT, BACKGROUND_DOCS)
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


def burst_events(n: int) -> list[DocumentEvent]:
    """``n`` wiki100 articles after the background's: the same versions every run."""
    from connectors import datasets

    return [e for e in datasets.wiki_events(TENANT, n, start=BACKGROUND_DOCS) if isinstance(e, DocumentEvent)]
