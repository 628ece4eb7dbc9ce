"""The oracle's model of an event log: per (tenant, entity), what must be searchable after it.

Input: the log as the worker's partitions deliver it (events and tombstones in order; the
order only matters within one Kafka key, which all events of one entity share). Output:
:class:`Expected`. The rules, written here from README "Updates, deletes and identity" and
the event schemas, not taken from the worker:

- a document is (tenant, doc_id): the highest ``version`` wins, deletes included; of equal
  versions the later record wins; a Kafka tombstone deletes at the version last seen (0 if none);
- an app event and a sensor reading are (tenant, event_id): a replay is the same entity again;
- a sensor's current state is (tenant, device, metric): the reading with the latest event
  time; of equal times, the later record;
- exact copies: live documents and app messages of one tenant with the same normalized text
  (:func:`normalized`) are one fact, to be stored under any one of them. That is the oracle's
  only drop rule: it knows nothing of near copies or of text too trivial to keep.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent

# Object ids are part of the public contract (STYLE: "uuid5 of entity id and chunk index"); kept
# here as written down rather than imported, so that a change of the worker's scheme shows up.
NAMESPACE = uuid.UUID("5b0c7b8e-7f8e-4a51-9a37-3c1c2f0d4e11")

# An email address, or the placeholder a redactor leaves for one ("[EMAIL]"): the same token.
PII_SPAN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\[[A-Z][A-Z_]*\]")
PII = "<pii>"
# Letters and digits; every other character separates words. Splitting at punctuation, not only at
# spaces, matters: the wiki dump glues sentences ("Egypt.Other") that a chunk boundary may part.
WORD = re.compile(r"\x00|[^\W_]+")


def object_id(tenant: str, kind: str, key: str, index: int) -> str:
    """The documented id of an object: ``kind`` is "document", "app", "sensor" or "sensor-state"."""
    return str(uuid.uuid5(NAMESPACE, f"{tenant}/{kind}/{key}/{index}"))


def tokens(text: str) -> list[str]:
    """Lowercase words, punctuation dropped; an email address and a redaction placeholder are one
    and the same token, so that redacted text still matches the text it came from."""
    return [PII if w == "\x00" else w for w in WORD.findall(PII_SPAN.sub(" \x00 ", text).lower())]


def normalized(text: str) -> str:
    """Lowercase, punctuation stripped, whitespace collapsed: equal means an exact copy."""
    return " ".join(tokens(text))


@dataclass(frozen=True)
class Tombstone:
    """A null Kafka value on the document topic, keyed ``tenant/doc_id``."""

    tenant: str
    doc_id: str


@dataclass(frozen=True)
class Entity:
    """One thing the index must hold.

    Attributes:
        kind: "document", "app", "sensor" (a reading) or "state" (a device's current reading).
        key: doc id, event id, or "device/metric" for a state.
        event_id: The event whose fact it must show (the winning version, the latest reading).
        text: What must be searchable: a document's text, an app event's message ("" otherwise).
        value: The reading a sensor object or a state must show.
        event_time: When that reading was taken (a state may show an equal reading of equal time).
    """

    tenant: str
    kind: str
    key: str
    event_id: str
    text: str = ""
    value: float | None = None
    event_time: datetime | None = None

    @property
    def copy_key(self) -> str:
        """Entities of one tenant with the same copy key are one fact ("" for none)."""
        return normalized(self.text) if self.kind in ("document", "app") else ""


@dataclass
class Expected:
    """The oracle's answer: ``live`` entities by (tenant, kind, key); ``deleted`` document keys."""

    live: dict[tuple[str, str, str], Entity] = field(default_factory=dict)
    deleted: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def tenants(self) -> set[str]:
        return {k[0] for k in self.live} | {k[0] for k in self.deleted}

    def copies(self) -> dict[tuple[str, str], list[Entity]]:
        """(tenant, copy key) -> the live entities that are one fact, for every key with text."""
        out: dict[tuple[str, str], list[Entity]] = {}
        for e in self.live.values():
            if e.copy_key:
                out.setdefault((e.tenant, e.copy_key), []).append(e)
        return out


@dataclass(frozen=True)
class _Doc:
    version: int
    event: DocumentEvent | None  # None: deleted


def expected(log: Iterable[AnyEvent | Tombstone], *, readings: bool = True, states: bool = True) -> Expected:
    """Fold ``log`` into what an empty index must hold after consuming it.

    Args:
        log: Events and tombstones in the order they were produced.
        readings: Whether every sensor reading is an object of its own (``curate.sensor_readings``
            "index"), or only the current state is kept ("state").
        states: Whether each device and metric has a current-state object.
    """
    docs: dict[tuple[str, str], _Doc] = {}
    latest: dict[tuple[str, str, str], SensorEvent] = {}
    out = Expected()
    for e in log:
        if isinstance(e, Tombstone):
            seen = docs.get((e.tenant, e.doc_id))
            docs[(e.tenant, e.doc_id)] = _Doc(seen.version if seen else 0, None)
        elif isinstance(e, DocumentEvent):
            _document(docs, e)
        elif isinstance(e, SensorEvent):
            if readings:
                out.live[(e.tenant, "sensor", e.event_id)] = Entity(
                    e.tenant, "sensor", e.event_id, e.event_id, value=e.payload.value, event_time=e.event_time)
            series = (e.tenant, e.payload.device_id, e.payload.metric)
            if series not in latest or latest[series].event_time <= e.event_time:
                latest[series] = e
        elif isinstance(e, AppEventEnvelope):
            out.live[(e.tenant, "app", e.event_id)] = Entity(e.tenant, "app", e.event_id, e.event_id,
                                                             e.payload.message.strip())
    for (tenant, doc_id), d in docs.items():
        if d.event is None:
            out.deleted.add((tenant, "document", doc_id))
        else:
            out.live[(tenant, "document", doc_id)] = Entity(tenant, "document", doc_id, d.event.event_id,
                                                            d.event.payload.text)
    for (tenant, device, metric), r in latest.items() if states else ():
        key = f"{device}/{metric}"
        out.live[(tenant, "state", key)] = Entity(tenant, "state", key, r.event_id, value=r.payload.value,
                                                  event_time=r.event_time)
    return out


def _document(docs: dict[tuple[str, str], _Doc], e: DocumentEvent) -> None:
    key = (e.tenant, e.payload.doc_id)
    seen = docs.get(key)
    if seen is None or e.payload.version >= seen.version:  # equal versions: the later record wins
        docs[key] = _Doc(e.payload.version, None if e.payload.deleted else e)
