"""Ordering rules for documents: which of a document's changes wins, across batches and restarts.

Pure: the indexed state (the ledger) and the document's changes in log order in, the
state that must be indexed out. The rules, also in the README:

- the highest version wins, deletes included: a delete carries a version and loses to a
  higher indexed one, and its tombstone remembers that version, so an older upsert
  replayed later cannot bring the document back;
- equal versions: the later event wins (a re-send with the default version 1 is an update);
- a Kafka tombstone (null value) deletes whatever is indexed, at the indexed version.

Folding change by change from the ledger gives the same result for any batching, which
is what makes the rules hold across batches, partitions and restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.chunk import DocState


@dataclass(frozen=True)
class DocChange:
    """One event about a document: an upsert, a delete (``deleted``), or a tombstone (``version`` None)."""

    version: int | None
    deleted: bool
    content_hash: str = ""
    position: int = 0  # index of the change in its batch, to find what it came from


def applies(state: DocState | None, change: DocChange) -> bool:
    return state is None or change.version is None or change.version >= state.version


def after(state: DocState | None, change: DocChange) -> DocState:
    version = change.version if change.version is not None else (state.version if state else 0)
    if change.deleted:
        return DocState(version, deleted=True)
    return DocState(version, content_hash=change.content_hash)


@dataclass(frozen=True)
class Resolution:
    """Where a document ends up: ``winner`` is the change that decides it (None: nothing applied)."""

    state: DocState | None
    winner: DocChange | None
    superseded: int  # changes that lost (older versions) or were overtaken within the batch


def resolve(indexed: DocState | None, changes: Sequence[DocChange]) -> Resolution:
    state, winner, applied = indexed, None, 0
    for change in changes:
        if applies(state, change):
            state, winner, applied = after(state, change), change, applied + 1
    return Resolution(state, winner, len(changes) - (1 if winner is not None else 0))
