"""What a benchmark waits for: the objects the worker will store for its events, predicted.

Not an oracle. A benchmark measures how fast the worker stores what it stores, so it has to
know, before it starts the clock, how many objects to wait for and which texts the model will
embed (the ceiling encodes exactly those). That prediction uses the worker's own transforms
(render, chunk, redact, quality rules, text fingerprints) on purpose. Whether what is stored is
right is :mod:`streams.harness.oracle`'s question, which shares none of this code.

Folded in log order: per document the highest version wins (equal versions: the later event);
one object per app event and reading; with curation, trivial text is dropped, and an exact or
near copy of another entity's kept text unless the two differ in a number, date, name or code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent
from streams.harness.oracle import object_id
from streams.transforms.chunk import Chunk, chunk_text
from streams.transforms.curate.facts import differs_in_facts
from streams.transforms.curate.judge import QualityRules, quality_issue
from streams.transforms.curate.redact import redact
from streams.transforms.fingerprint import dedup_key, jaccard
from streams.transforms.render import render


@dataclass(frozen=True)
class Predicted:
    uuid: str
    event_id: str
    text: str  # what the worker embeds for it


@dataclass
class Curating:
    """The curation the prediction applies: redaction, triviality, exact and near copies."""

    redact: bool = True
    rules: QualityRules = QualityRules()
    near_threshold: float = 0.7
    kept: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # tenant -> (entity, text) kept

    def keeps(self, tenant: str, entity: str, judged: str, basis: str) -> bool:
        """Whether a chunk survives, judged on ``judged`` and deduplicated on ``basis``; remembers it."""
        if quality_issue(judged, self.rules) is not None:
            return False
        for other_entity, other in self.kept.get(tenant, []):
            same = dedup_key(other) == dedup_key(basis) or jaccard(other, basis) >= self.near_threshold
            if other_entity != entity and same and not differs_in_facts(other, basis):
                return False
        self.kept.setdefault(tenant, []).append((entity, basis))
        return True

    def text(self, text: str) -> str:
        return redact(text)[0] if self.redact else text


def predict(log: Sequence[AnyEvent], count_tokens: Callable[[str], int], *, max_tokens: int, overlap_tokens: int,
            curating: Curating | None = None, sensor_state: bool = True) -> list[Predicted]:
    """The objects the worker will store for ``log`` consumed in order into an empty index."""
    docs: dict[tuple[str, str], DocumentEvent] = {}
    out: dict[str, Predicted] = {}
    states: dict[tuple[str, str, str], SensorEvent] = {}

    def cut(text: str) -> list[Chunk]:
        return chunk_text(text, count_tokens, max_tokens, overlap_tokens)

    for e in log:
        if isinstance(e, DocumentEvent):
            cur = docs.get((e.tenant, e.payload.doc_id))
            if cur is None or e.payload.version >= cur.payload.version:
                docs[(e.tenant, e.payload.doc_id)] = e
        elif isinstance(e, SensorEvent):
            text = curating.text(render(e).text) if curating else render(e).text
            uid = object_id(e.tenant, "sensor", e.event_id, 0)
            out[uid] = Predicted(uid, e.event_id, text)
            key = (e.tenant, e.payload.device_id, e.payload.metric)
            if key not in states or states[key].event_time <= e.event_time:
                states[key] = e
        elif isinstance(e, AppEventEnvelope):
            message = curating.text(e.payload.message).strip() if curating else ""
            for c in cut(curating.text(render(e).text) if curating else render(e).text):
                basis = (message or c.text) if c.index == 0 else f"{message or c.text} #{c.index}"
                if curating is None or curating.keeps(e.tenant, e.event_id, message or c.text, basis):
                    uid = object_id(e.tenant, "app", e.event_id, c.index)
                    out[uid] = Predicted(uid, e.event_id, c.text)
    for (tenant, device, metric), e in states.items() if sensor_state else ():
        uid = object_id(tenant, "sensor-state", f"{device}/{metric}", 0)
        out[uid] = Predicted(uid, e.event_id, "")
    for d in docs.values():
        if d.payload.deleted:
            continue
        for c in cut(curating.text(d.payload.text) if curating else d.payload.text):
            if curating is None or curating.keeps(d.tenant, d.payload.doc_id, c.text, c.text):
                uid = object_id(d.tenant, "document", d.payload.doc_id, c.index)
                out[uid] = Predicted(uid, d.event_id, c.text)
    return list(out.values())
