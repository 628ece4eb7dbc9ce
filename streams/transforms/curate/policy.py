"""Curate, policy: the curation rules of one worker, applied by the pure plan.

Holds only configuration and pure callables (compiled patterns, quality rules per
source, an optional classifier); no I/O. See :mod:`streams.transforms.curate`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent
from schemas.chunk import ChunkRecord
from streams.transforms.curate.judge import QualityRules, quality_issue
from streams.transforms.curate.redact import redact, redact_spans
from streams.transforms.fingerprint import dedup_key, lsh_bands
from streams.transforms.render import Rendered
from streams.transforms.state import SeriesFacts, series_facts, series_key


@dataclass(frozen=True)
class Drop:
    """A record curation kept out of the index, for counters and the audit topic."""

    event_id: str
    kind: str
    source: str
    tenant: str
    reason: str
    chunk_index: int = -1


K = TypeVar("K")
V = TypeVar("V")

FIELDS_REMEMBERED = 100_000
SERIES_REMEMBERED = 200_000  # sensor series whose facts are kept (:mod:`streams.transforms.state`)


@dataclass(frozen=True)
class Curation:
    redact_pii: bool = True
    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()
    rules: QualityRules = QualityRules()
    rules_by_source: dict[str, QualityRules] = field(default_factory=dict)
    classifier: Callable[[str], str | None] | None = None
    near: bool = True
    exact: bool = True
    sensor_state: bool = True
    sensor_readings: bool = True  # readings are objects of their own; False: only the current state
    recognizer: Callable[[str], list[tuple[int, int, str]]] | None = None  # e.g. presidio, after the regexes
    # Titles and fields (device ids, places, apps) repeat from event to event: each is redacted once.
    _fields: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = field(
        default_factory=dict, compare=False, hash=False, repr=False)
    _series: dict[tuple[object, ...], SeriesFacts] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def redact_text(self, text: str) -> tuple[str, Counter[str]]:
        """Built-in and configured patterns first, then the optional recognizer on what is left."""
        if not self.redact_pii:
            return text, Counter()
        text, counts = redact(text, self.patterns)
        if self.recognizer is not None and text:
            text, more = redact_spans(text, self.recognizer(text))
            counts.update(more)
        return text, counts

    def redact(self, r: Rendered) -> tuple[Rendered, Counter[str]]:
        if not self.redact_pii:
            return r, Counter()
        text, counts = self.redact_text(r.text)
        title, more = self._redact_field(r.title)
        props = {}
        for k, v in r.properties.items():
            if isinstance(v, str):
                v, extra = self._redact_field(v)
                more.update(extra)
            props[k] = v
        return Rendered(text, title, props), counts + more

    def _redact_field(self, value: str) -> tuple[str, Counter[str]]:
        def work_out() -> tuple[str, tuple[tuple[str, int], ...]]:
            text, counts = self.redact_text(value)
            return text, tuple(counts.items())

        known = _remembered(self._fields, value, FIELDS_REMEMBERED, work_out)
        return known[0], Counter(dict(known[1]))

    def series(self, event: SensorEvent) -> SeriesFacts:
        """What every current state of ``event``'s series shows, worked out once per series."""
        return _remembered(self._series, series_key(event), SERIES_REMEMBERED, lambda: series_facts(event, self.redact))

    def issue(self, event: AnyEvent, text: str, language: str) -> str | None:
        if isinstance(event, SensorEvent):
            return None
        reason = quality_issue(text, self.rules_by_source.get(event.source, self.rules), language)
        if reason is None and self.classifier is not None:
            label = self.classifier(text)
            reason = f"classifier:{label}" if label else None
        return reason

    def fingerprint(self, event: AnyEvent, rec: ChunkRecord, dedup_text: str) -> ChunkRecord:
        # Apps: compare messages, not the rendered sentence whose time and actor differ between copies.
        body = dedup_text if isinstance(event, AppEventEnvelope) else ""
        props = {**rec.properties, "content_hash": dedup_key(dedup_text), "record_type": "chunk", "body": body,
                 "lsh_bands": lsh_bands(dedup_text) if self.near and not isinstance(event, SensorEvent) else []}
        return replace(rec, properties=props)


def _remembered(memo: dict[K, V], key: K, limit: int, work_out: Callable[[], V]) -> V:
    """``memo[key]``, worked out on first use; a full memo starts over (a bound, not an LRU: cheap to keep)."""
    known = memo.get(key)
    if known is None:
        if len(memo) >= limit:
            memo.clear()
        known = memo[key] = work_out()
    return known


def dedup_text(event: AnyEvent, rec: ChunkRecord, message: str) -> str:
    """What "the same content" means: an app event's message (not its time), a document chunk's text."""
    if isinstance(event, AppEventEnvelope) and message.strip():
        idx = rec.properties["chunk_index"]
        return message if idx == 0 else f"{message} #{idx}"
    if isinstance(event, DocumentEvent):
        return rec.text
    return f"{event.event_id} {rec.text}"  # sensor readings are never deduplicated by content
