"""The job of ``headwater bench --peers`` and what one system's run of it measured.

A :class:`Job` is the first N wiki100 articles (:func:`articles`), or those plus copies under
other ids (:func:`with_copies`); a :class:`SystemRun` is one system's run of it: what it stored,
where, and how long until all of it was searchable.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas import DocumentEvent

DUP_SHARE = 0.3
PARTITIONS = 3


@dataclass(frozen=True)
class Job:
    corpus: str
    events: list[DocumentEvent]

    @property
    def mb(self) -> float:
        return sum(len(e.payload.text.encode()) for e in self.events) / 1e6


@dataclass(frozen=True)
class SystemRun:
    """One system's run: what it stored, where, and how long until all of it was searchable."""

    system: str
    corpus: str
    docs: int
    chunks: int  # counted in Weaviate after the clock stopped
    expected: int
    mb: float
    seconds: float
    collection: str
    tenant: str | None = None
    backend: str = ""  # how the system ran the model: an embedder's model id

    @property
    def docs_s(self) -> float:
        return self.docs / self.seconds

    @property
    def chunks_s(self) -> float:
        return self.chunks / self.seconds

    @property
    def mb_s(self) -> float:
        return self.mb / self.seconds


def articles(n: int, tenant: str) -> Job:
    from connectors import datasets

    return Job("wiki100", [e for e in datasets.wiki_events(tenant, n) if isinstance(e, DocumentEvent)])


def with_copies(job: Job, share: float = DUP_SHARE) -> Job:
    """The job plus copies (alternately exact and near: spacing changed, a note added) making ``share`` of it."""
    n = max(1, round(len(job.events) * share / (1 - share)))
    copies = []
    for i in range(n):
        src = job.events[i % len(job.events)]
        text = src.payload.text if i % 2 == 0 else src.payload.text.replace(". ", ".  ") + "\n\n(mirrored copy)"
        doc_id = f"{src.payload.doc_id}-copy{i}"
        copies.append(src.model_copy(update={"event_id": f"{src.event_id}-copy{i}", "payload": src.payload.model_copy(
            update={"doc_id": doc_id, "text": text, "uri": f"mirror/{doc_id}"})}))
    return Job(f"{job.corpus} +{share:.0%} copies", job.events + copies)
