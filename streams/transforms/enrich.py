"""Stage 4, enrich: event + rendered text + chunks -> records with ids and metadata.

Input: the validated event, its :class:`~streams.transforms.render.Rendered` form,
its chunks and the Kafka position it was read from. Output: one
:class:`ChunkRecord` per chunk, carrying everything stored beside the vector:
source, kind, entity, event and ingest time, Kafka position, section, language,
keywords, content hash and the rendered fields. Every record has every property of
:data:`schemas.chunk.PROPERTIES` ("" / 0 / 0.0 defaults), because the Weaviate schema is fixed.

Ids are deterministic: documents by (tenant, doc id, chunk index), so a new version
overwrites the old chunks in place; sensor readings and app events by (tenant,
event id, chunk index), so a replay rewrites the same objects.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from typing import Any

from schemas import AnyEvent, DocumentEvent, entity_id
from schemas.access import EVERYONE
from schemas.chunk import ChunkRecord, KafkaPosition
from streams.transforms.chunk import Chunk
from streams.transforms.fingerprint import dedup_key
from streams.transforms.render import Rendered

# Fixed forever: changing it changes every id and orphans every stored object.
NAMESPACE = uuid.UUID("5b0c7b8e-7f8e-4a51-9a37-3c1c2f0d4e11")

# Properties copied flat from Rendered.properties, with their defaults for other kinds.
RENDERED_DEFAULTS: dict[str, str | float] = {
    "metric": "", "value": 0.0, "unit": "", "location": "", "device_id": "",
    "app": "", "action": "", "actor": "",
}

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""the and of to in is was for that with as on by it are from at this be which or an
        were has have had not but its their his her they he she we you been also than these those
        there will would can could into about after more other such when who what where how all
        one most""".split()),
    "de": frozenset("""der die das und ist nicht ein eine einen zu den von mit sich des auf für im dem
        auch als an aus bei nach wird wurde sind war es er sie wir ich oder wie über noch nur
        zum zur""".split()),
    "fr": frozenset("""de le la les et est des une un du que pour dans qui pas sur au par avec
        ce cette il elle ils sont été aux mais ou plus se sa son ses leur nous vous être très""".split()),
    "es": frozenset("""el la los las y es de que en un una por con para del se al como
        su sus lo más pero fue son está han este esta entre sobre también muy ya hay""".split()),
    "it": frozenset("""il lo la gli le e di che un una per con del della non sono nel
        è da dei delle al alla anche come più ma si ha questo questa stato essere""".split()),
    "nl": frozenset("""de het een en van is dat op te in zijn met voor niet aan er
        die ook als bij door om naar uit maar wordt werd hij zij we nog dan""".split()),
    "pt": frozenset("""o a os as e de que um uma para com do da em não se por
        dos das no na ao mais mas foi são está como seu sua também ou ele ela""".split()),
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
TOKEN = re.compile(r"[^\W\d_][\w'-]*")


def object_key(event: AnyEvent) -> str:
    """What a chunk id is built from: the doc id for documents (versions replace each other),
    the event id for sensor readings and app events (each is its own object)."""
    return event.payload.doc_id if isinstance(event, DocumentEvent) else event.event_id


def chunk_uuid(tenant: str, kind: str, key: str, index: int) -> str:
    """``str(uuid5(NAMESPACE, f"{tenant}/{kind}/{key}/{index}"))``: same inputs, same id, forever."""
    return str(uuid.uuid5(NAMESPACE, f"{tenant}/{kind}/{key}/{index}"))


def enrich(event: AnyEvent, rendered: Rendered, chunks: list[Chunk],
           position: KafkaPosition) -> list[ChunkRecord]:
    """One record per chunk, in chunk order; ``[]`` for no chunks.

    Args:
        event: The validated event the chunks came from.
        rendered: The event rendered to text; ``chunks`` are offsets into ``rendered.text``.
        chunks: The chunks of ``rendered.text``.
        position: The Kafka record the event was read from.

    Returns:
        Records whose properties hold exactly the keys of :data:`schemas.chunk.PROPERTIES`.
    """
    base = event_properties(event, rendered, position, len(chunks))
    key = object_key(event)
    return [ChunkRecord(chunk_uuid(event.tenant, event.kind.value, key, c.index), event.tenant, c.text,
                        {**base, **_chunk_properties(c)})
            for c in chunks]


def event_properties(event: AnyEvent, rendered: Rendered, pos: KafkaPosition, count: int) -> dict[str, Any]:
    """What every chunk of ``event`` stores beside its own text and offsets (``count``: how many chunks)."""
    doc = event.payload if isinstance(event, DocumentEvent) else None
    props: dict[str, Any] = {
        "title": rendered.title, "kind": event.kind.value, "source": event.source,
        "entity_id": entity_id(event), "event_id": event.event_id,
        "doc_id": doc.doc_id if doc else "", "doc_version": doc.version if doc else 0,
        "uri": doc.uri if doc else "", "chunk_count": count,
        "event_time": event.event_time, "ingest_time": event.ingest_time or event.event_time,
        "clock_skew_s": 0.0,  # the planner notes a clamped stamp (streams.transforms.clock)
        "kafka_topic": pos.topic, "kafka_partition": pos.partition, "kafka_offset": pos.offset,
        # "*" rather than []: a filter can match "everyone", an empty array matches nothing
        "readers": sorted(set(event.readers)) or [EVERYONE],
        **RENDERED_DEFAULTS,
    }
    for name, default in RENDERED_DEFAULTS.items():
        if name in rendered.properties:
            # Coerce to the default's type: an int reading must still be stored as a number.
            props[name] = type(default)(rendered.properties[name])
    return props


def _chunk_properties(c: Chunk) -> dict[str, Any]:
    return {"text": c.text, "chunk_index": c.index, "char_start": c.start, "char_end": c.end,
            "section": c.section, "language": detect_language(c.text), "keywords": keywords(c.text),
            "content_hash": dedup_key(c.text),
            "record_type": "chunk", "lsh_bands": [], "body": ""}


def detect_language(text: str) -> str:
    """Guess the ISO 639-1 language of ``text`` from stopword counts.

    Looks at the first 5,000 characters. Knows "en", "de", "fr", "es", "it", "nl" and
    "pt"; answers "und" (undetermined) on a tie, with no stopword, or when stopwords
    are under 5% of the words.
    """
    counts = Counter(w.lower() for w in TOKEN.findall(text[:5000]))
    # A set intersection per language, not a membership test per word and language: a fifth of an
    # app event's planning time went here.
    scores = sorted(((sum(counts[w] for w in counts.keys() & sw), lang) for lang, sw in STOPWORDS.items()),
                    reverse=True)
    (best, lang), (second, _) = scores[0], scores[1]
    return lang if best > second and best >= 0.05 * counts.total() else "und"


def keywords(text: str, k: int = 8) -> list[str]:
    """The ``k`` most frequent content words of ``text``, lowercased.

    Stopwords of every known language and words under three letters are left out.
    Ties go to the word that appears first, so the result is deterministic.
    """
    words = [w.lower() for w in TOKEN.findall(text)]
    counts = Counter(w for w in words if len(w) > 2 and w not in ALL_STOPWORDS)
    # Counter keeps first-insertion order and sorted() is stable: equal counts stay in text order.
    return [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:k]]
