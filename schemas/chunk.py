"""The stored chunk: what one Weaviate object holds, and where it came from in Kafka.

:data:`PROPERTIES` is the one table of stored properties. The Weaviate collection
is created from it, enrich fills every one of them, and search reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

DataType = Literal["text", "text[]", "int", "number", "date", "bool"]


@dataclass(frozen=True)
class Prop:
    """One stored property: its Weaviate data type, and how it is indexed.

    ``exact`` properties are ids and enum-like values, tokenized as one field rather
    than as analysed words. Only ``search`` properties get a keyword (BM25) index, and
    only ``filter`` properties a filter index: every index is rewritten with each
    update of an object, which is most of what a sensor's current state costs Weaviate.
    """

    type: DataType
    exact: bool = False
    search: bool = False  # hybrid search's keyword half reads it
    filter: bool = True  # Headwater or a user filters on it


PROPERTIES: dict[str, Prop] = {
    # the text and its place in the source
    "text": Prop("text", search=True, filter=False), "title": Prop("text", search=True, filter=False),
    "section": Prop("text", filter=False), "chunk_index": Prop("int"), "chunk_count": Prop("int", filter=False),
    "char_start": Prop("int", filter=False), "char_end": Prop("int", filter=False),
    # what the chunk is about
    "kind": Prop("text", exact=True), "source": Prop("text", exact=True), "entity_id": Prop("text", exact=True),
    "event_id": Prop("text", exact=True), "doc_id": Prop("text", exact=True), "doc_version": Prop("int"),
    "uri": Prop("text", exact=True), "language": Prop("text", exact=True), "keywords": Prop("text[]", filter=False),
    # times and the citation back to Kafka
    "event_time": Prop("date"), "ingest_time": Prop("date"), "index_time": Prop("date", filter=False),
    # seconds the event's own stamp was ahead of its stored event_time (0: trusted; >0: a wrong clock, clamped
    # to when Kafka received it, streams.transforms.clock); filterable, to find the devices with wrong clocks
    "clock_skew_s": Prop("number"),
    "kafka_topic": Prop("text", exact=True), "kafka_partition": Prop("int", filter=False),
    "kafka_offset": Prop("int", filter=False),
    # rendered fields of sensor readings and app events ("" / 0.0 for other kinds)
    "metric": Prop("text", exact=True), "value": Prop("number"), "unit": Prop("text", exact=True),
    "location": Prop("text"), "device_id": Prop("text", exact=True),
    "app": Prop("text", exact=True), "action": Prop("text"), "actor": Prop("text"),
    # curation and indexing bookkeeping
    "record_type": Prop("text", exact=True),  # "chunk", or "state" for a device's current reading
    "content_hash": Prop("text", exact=True),  # dedup key: equal for trivially equal content
    "lsh_bands": Prop("text[]", exact=True),  # MinHash LSH band keys, for near-duplicate lookups
    "body": Prop("text", filter=False),  # what near-dedup compares for app events: the message, not the sentence
    "model_id": Prop("text", exact=True, filter=False),
    # who may read it: the event's reader tags, or ["*"] for everyone in the tenant (search filters on it)
    "readers": Prop("text[]", exact=True),
}


@dataclass(frozen=True)
class KafkaPosition:
    """Where a record was read: the citation back to the source of truth."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class ChunkRecord:
    """One Weaviate object before embedding.

    Attributes:
        uuid: Deterministic object id, ``str(uuid5)``.
        tenant: The Weaviate tenant it belongs to (not stored as a property).
        text: The text to embed.
        properties: Everything stored beside the vector, keys and types from :data:`PROPERTIES`.
    """

    uuid: str
    tenant: str
    text: str
    properties: dict[str, Any]


# Stamped by the indexer when an object is written; enrich fills every other property.
STAMPED_AT_WRITE = frozenset({"index_time", "model_id"})
ENRICHED: dict[str, Prop] = {k: p for k, p in PROPERTIES.items() if k not in STAMPED_AT_WRITE}


@dataclass(frozen=True)
class DocState:
    """What is indexed for one document: the ledger entry that ordering and incremental writes read.

    Attributes:
        version: The version that won, deletes included (a delete remembers its version).
        deleted: True for a tombstone: older upserts must not bring the document back.
        content_hash: Fingerprint of everything the document's chunks are made from (text, title,
            uri, chunking and model); equal means nothing to re-embed.
        chunk_hashes: Per chunk index, the fingerprint of the chunk as stored ("" where no object
            is stored: dropped by curation, or refused by Weaviate).
        model_id: The embedding model of the stored vectors.
    """

    version: int
    deleted: bool = False
    content_hash: str = ""
    chunk_hashes: tuple[str, ...] = ()
    model_id: str = ""


LEDGER_PROPERTIES: dict[str, Prop] = {
    "doc_id": Prop("text", exact=True), "version": Prop("int"), "deleted": Prop("bool"),
    "content_hash": Prop("text", exact=True), "chunk_hashes": Prop("text[]", exact=True),
    "model_id": Prop("text", exact=True), "event_id": Prop("text", exact=True),
}
