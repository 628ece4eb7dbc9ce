"""Stage 4, enrich: event + rendered text + chunks -> records with metadata and ids.

Adds what filters and citations need: source, kind, entity, event and ingest time,
Kafka position, section, language, keywords, content hash. Ids are deterministic:
documents by (tenant, doc id, chunk index), so a new version overwrites the old
chunks in place; sensor readings and app events by (tenant, event id, chunk index).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent, entity_id
from streams.transforms.chunk import Chunk
from streams.transforms.render import Rendered

NAMESPACE = uuid.UUID("5b0c7b8e-7f8e-4a51-9a37-3c1c2f0d4e11")

PROPERTY_TYPES: dict[str, str] = {
    "text": "text", "title": "text", "kind": "text", "source": "text", "entity_id": "text",
    "event_id": "text", "doc_id": "text", "doc_version": "int", "uri": "text", "chunk_index": "int",
    "chunk_count": "int", "char_start": "int", "char_end": "int", "section": "text", "event_time": "date",
    "ingest_time": "date", "kafka_topic": "text", "kafka_partition": "int", "kafka_offset": "int",
    "language": "text", "keywords": "text[]", "content_hash": "text",
    "device_id": "text", "metric": "text", "value": "number", "unit": "text", "location": "text",
    "app": "text", "action": "text", "actor": "text",
}

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to in is was for that with as on by it are from at this be which or an".split()),
    "de": frozenset("der die das und ist nicht ein eine zu den von mit sich des auf für im dem".split()),
    "fr": frozenset("le la les et est des une un du que pour dans qui pas sur au par avec".split()),
    "es": frozenset("el la los las y es de que en un una por con para del se al como".split()),
    "it": frozenset("il lo la gli le e di che un una per con del della non sono nel".split()),
    "nl": frozenset("de het een en van is dat op te in zijn met voor niet aan er".split()),
    "pt": frozenset("o a os as e de que um uma para com do da em não se por".split()),
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
TOKEN = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


@dataclass(frozen=True)
class KafkaPosition:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class ChunkRecord:
    uuid: str
    tenant: str
    text: str
    properties: dict[str, Any]


def object_key(event: AnyEvent) -> str:
    return event.payload.doc_id if isinstance(event, DocumentEvent) else event.event_id


def chunk_uuid(tenant: str, kind: str, key: str, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{tenant}/{kind}/{key}/{index}"))


def detect_language(text: str) -> str:
    """ISO 639-1 guess from stopword counts; "und" when there is too little evidence."""
    words = [w.lower() for w in TOKEN.findall(text[:5000])]
    scores = {lang: sum(w in sw for w in words) for lang, sw in STOPWORDS.items()}
    lang, best = max(scores.items(), key=lambda kv: (kv[1], kv[0] == "en"))
    return lang if best >= 2 and best >= 0.05 * len(words) else "und"


def keywords(text: str, k: int = 8) -> list[str]:
    """Most frequent content words (ties by first appearance)."""
    words = [w.lower() for w in TOKEN.findall(text)]
    counts = Counter(w for w in words if len(w) > 2 and w not in ALL_STOPWORDS)
    first = {w: i for i, w in reversed(list(enumerate(words)))}
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], first[kv[0]]))[:k]]


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()


def _base(event: AnyEvent, rendered: Rendered, pos: KafkaPosition, count: int) -> dict[str, Any]:
    doc = event.payload if isinstance(event, DocumentEvent) else None
    props: dict[str, Any] = {
        "title": rendered.title, "kind": event.kind.value, "source": event.source, "entity_id": entity_id(event),
        "event_id": event.event_id, "doc_id": doc.doc_id if doc else "", "doc_version": doc.version if doc else 0,
        "uri": doc.uri if doc else "", "chunk_count": count, "event_time": event.event_time,
        "ingest_time": event.ingest_time or event.event_time, "kafka_topic": pos.topic,
        "kafka_partition": pos.partition, "kafka_offset": pos.offset,
        "device_id": "", "metric": "", "value": 0.0, "unit": "", "location": "", "app": "", "action": "", "actor": "",
    }
    props.update({k: v for k, v in rendered.properties.items() if k in PROPERTY_TYPES})
    if isinstance(event, SensorEvent | AppEventEnvelope):
        props["value"] = float(props["value"])
    return props


def enrich(event: AnyEvent, rendered: Rendered, chunks: list[Chunk], position: KafkaPosition) -> list[ChunkRecord]:
    base = _base(event, rendered, position, len(chunks))
    key = object_key(event)
    return [
        ChunkRecord(
            chunk_uuid(event.tenant, event.kind.value, key, c.index), event.tenant, c.text,
            {**base, "text": c.text, "chunk_index": c.index, "char_start": c.start, "char_end": c.end,
             "section": c.section, "language": detect_language(c.text), "keywords": keywords(c.text),
             "content_hash": content_hash(c.text)},
        )
        for c in chunks
    ]
