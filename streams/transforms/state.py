"""Current state: one object per (tenant, device, metric), replaced by each newer reading.

The readings of one series differ in value, time and Kafka position, and in nothing else a
state shows. What a state says about its series (redacted title and fields, the description
its vector comes from, language, keywords, what redaction found) is worked out once per series
(:func:`series_facts`, remembered by :class:`~streams.transforms.curate.policy.Curation`); each
reading then only fills in its own value, time and position (:func:`state_record`). Planning a
state so costs a few dictionary entries, not a rendering, a redaction and a language guess
(about 0.6 ms each on 2 cores: a fleet of 1,000 series spent 0.6 s a batch on it).

Facts come from the series' reading rendered with a value of 0 at the epoch, so they never
depend on which reading of the series a worker happened to see first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas import SensorEvent
from schemas.chunk import ChunkRecord, KafkaPosition
from streams.transforms.enrich import chunk_uuid, detect_language, event_properties, keywords
from streams.transforms.fingerprint import dedup_key
from streams.transforms.render import Rendered, describe_sensor, number, render

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Redact = Callable[[Rendered], tuple[Rendered, Counter[str]]]


@dataclass(frozen=True)
class SeriesFacts:
    """What every state of one series shows, whatever its value and time."""

    uuid: str
    rendered: Rendered  # title and fields after redaction; ``text`` unused
    description: str  # the text its vector is made from (:func:`~streams.transforms.render.describe_sensor`)
    language: str
    keywords: tuple[str, ...]
    redactions: tuple[tuple[str, int], ...]  # what redaction found in the series' fields and sentence


def series_key(event: SensorEvent) -> tuple[Any, ...]:
    """Everything :func:`series_facts` reads: two readings with equal keys have equal facts."""
    p = event.payload
    return event.tenant, p.device_id, p.metric, p.unit, p.location, tuple(sorted(p.tags.items()))


def series_facts(event: SensorEvent, redact: Redact) -> SeriesFacts:
    p = event.payload
    canonical = event.model_copy(update={"event_time": EPOCH, "payload": p.model_copy(update={"value": 0.0})})
    rendered, found = redact(render(canonical))
    sentence = rendered.text.strip()
    return SeriesFacts(chunk_uuid(event.tenant, "sensor-state", f"{p.device_id}/{p.metric}", 0), rendered,
                       describe_sensor(rendered.properties), detect_language(sentence),
                       tuple(keywords(sentence)), tuple(found.items()))


def state_record(event: SensorEvent, position: KafkaPosition, facts: SeriesFacts) -> ChunkRecord:
    """The series' current state as of ``event`` (stamped with its ingest time).

    Worded from the series' redacted fields, never from the raw payload; the value and the time
    are the reading's own.
    """
    p = event.payload
    f = facts.rendered.properties
    unit, where = f["unit"], f" in {f['location']}" if f["location"] else ""
    when = event.event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"Current {str(f['metric']).replace('_', ' ')} of {f['device_id']}{where}: {number(p.value)}"
            f"{' ' + str(unit) if unit else ''} (latest reading, {when}).")
    props = event_properties(event, Rendered("", facts.rendered.title, {**f, "value": p.value}), position, 1)
    props |= {"text": text, "chunk_index": 0, "char_start": 0, "char_end": len(text), "section": "",
              "language": facts.language, "keywords": list(facts.keywords),
              "content_hash": dedup_key(f"state {p.device_id}/{p.metric} {event.event_id}"),
              "record_type": "state", "lsh_bands": [], "body": ""}
    return ChunkRecord(facts.uuid, event.tenant, facts.description, props)
