"""How Weaviate differs from the oracle: missing, stale, orphan and duplicate, entity by entity.

Input: :class:`~streams.harness.oracle.model.Expected` and the stored objects of its tenants
(:func:`stored`). Output: :class:`Diff`, one line per finding naming tenant, kind, entity and event.

The oracle does not chunk, so it checks coverage, not chunk equality:
- a document's chunks, in chunk order, must each be a run of words of the expected version, each
  starting at or after the one before and ending after it (chunks are cut in text order); together
  they must hold every word. A run may also come from an exact copy stored under another entity
  of the tenant (one fact, stored once);
- an app event's chunks must hold every word of its message (the frame the worker renders around
  it, who did what when, is not the oracle's business);
- a reading must show its value; a current state its series' latest reading (or an equal one).

Findings: **missing**, an expected entity with nothing stored (nor an exact copy), or words of it
that no chunk holds; **stale**, a chunk outside its entity's expected version, a reading or state
showing another value, or anything of a deleted document; **orphan**, an object of an entity the
log never had, or under an id other than the documented one; **duplicate**, one position of an
entity stored twice, or one fact (the same normalized text) stored under two entities.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from streams.harness.oracle.model import Entity, Expected, normalized, object_id, tokens

PROPS = ["event_id", "text", "doc_id", "chunk_index", "record_type", "kind", "value", "device_id", "metric",
         "event_time"]
ID_KIND = {"state": "sensor-state"}  # the id of a state is made with this kind

Object = dict[str, Any]


@dataclass(frozen=True)
class Diff:
    """How the index differs from the oracle; all empty when it holds exactly what it must."""

    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    orphan: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"missing": len(self.missing), "stale": len(self.stale), "orphan": len(self.orphan),
                "duplicate": len(self.duplicate)}

    @property
    def clean(self) -> bool:
        return not any(self.counts().values())

    def report(self, n: int = 5) -> dict[str, Any]:
        """The counts and the first ``n`` findings of each class: what an assertion message shows."""
        found = {k: v[:n] for k, v in vars(self).items() if v}
        return {"counts": self.counts(), **found}


def stored(client: Any, collection: str, tenants: Iterable[str]) -> dict[str, list[Object]]:
    """Every object of each tenant, with the properties :func:`compare` reads."""
    from connectors.weaviate import query

    return {t: query.objects(client, collection, t, PROPS) for t in sorted(tenants)}


def compare(want: Expected, objects: Mapping[str, Iterable[Object]]) -> Diff:
    """Compare ``objects`` (tenant -> stored objects, as :func:`stored` returns) with ``want``."""
    diff = Diff()
    for tenant, objs in objects.items():
        _Tenant(want, tenant, diff).check(list(objs))
    return diff


def entity_of(obj: Object) -> tuple[str, str]:
    """(kind, key) of a stored object, in the oracle's terms."""
    if obj.get("record_type") == "state":
        return "state", f"{obj.get('device_id')}/{obj.get('metric')}"
    kind = str(obj.get("kind"))
    return kind, str(obj.get("doc_id") if kind == "document" else obj.get("event_id"))


class _Tenant:
    def __init__(self, want: Expected, tenant: str, diff: Diff) -> None:
        self.want, self.tenant, self.diff = want, tenant, diff
        self.groups: dict[tuple[str, str], list[Object]] = {}

    def name(self, kind: str, key: str) -> str:
        return f"{self.tenant}/{kind}/{key}"

    def check(self, objs: list[Object]) -> None:
        self._group(objs)
        for (kind, key), group in self.groups.items():
            e = self.want.live.get((self.tenant, kind, key))
            if e is not None:
                self._entity(e, sorted(group, key=lambda o: int(o.get("chunk_index") or 0)))
            else:
                why = "the document is deleted" if (self.tenant, kind, key) in self.want.deleted else "not in the log"
                found = [f"{self.name(kind, key)}#{o.get('chunk_index')}: {why} (event {o.get('event_id')})"
                         for o in group]
                (self.diff.stale if "deleted" in why else self.diff.orphan).extend(found)
        self._missing_and_copies()
        self._same_text_twice()

    def _group(self, objs: list[Object]) -> None:
        positions: set[tuple[str, str, int]] = set()
        for o in objs:
            kind, key = entity_of(o)
            index = int(o.get("chunk_index") or 0)
            if (kind, key, index) in positions:
                self.diff.duplicate.append(f"{self.name(kind, key)}#{index}: stored twice ({o['uuid']})")
            elif o["uuid"] != object_id(self.tenant, ID_KIND.get(kind, kind), key, index):
                self.diff.orphan.append(f"{self.name(kind, key)}#{index}: id {o['uuid']} is not the documented one")
            else:
                positions.add((kind, key, index))
                self.groups.setdefault((kind, key), []).append(o)

    def _entity(self, e: Entity, group: list[Object]) -> None:
        if e.kind == "document":
            self._document(e, group)
        elif e.kind == "app":
            self._covered(e, [_longest_run(tokens(e.text), tokens(str(o.get("text") or ""))) for o in group])
        elif e.kind == "sensor" and any(_value(o) != e.value for o in group):
            self.diff.stale.append(f"{self.name(e.kind, e.key)}: shows {_value(group[0])}, not {e.value}")
        elif e.kind == "state":
            o = group[0]
            same = _value(o) == e.value and o.get("event_time") == e.event_time  # an equal reading, as good
            if o.get("event_id") != e.event_id and not same:
                self.diff.stale.append(f"{self.name(e.kind, e.key)}: shows event {o.get('event_id')} "
                                       f"({_value(o)}), not the latest, {e.event_id} ({e.value})")

    def _document(self, e: Entity, group: list[Object]) -> None:
        words = _Words(tokens(e.text))
        spans: list[tuple[int, int]] = []
        for o in group:
            run = tokens(str(o.get("text") or ""))
            if not run:
                continue
            at = words.find(run, *(spans[-1] if spans else (0, 0)))
            if at is None:
                self.diff.stale.append(f"{self.name(e.kind, e.key)}#{o.get('chunk_index')}: not in the expected "
                                       f"version (event {e.event_id}): {' '.join(run[:12])!r}")
            else:
                spans.append(at)
        if _gaps(len(words), spans):  # an exact copy under another entity holds the same words
            for (kind, key), others in self.groups.items():
                if (kind, key) != ("document", e.key) and kind in ("document", "app"):
                    spans += [at for o in others if (run := tokens(str(o.get("text") or "")))
                              and (at := words.find(run, 0)) is not None]
        self._covered(e, spans)

    def _covered(self, e: Entity, spans: Sequence[tuple[int, int] | None]) -> None:
        words = tokens(e.text)
        for start, end in _gaps(len(words), [s for s in spans if s is not None])[:3]:
            self.diff.missing.append(f"{self.name(e.kind, e.key)}: words {start}-{end} not stored "
                                     f"(event {e.event_id}): {' '.join(words[start:end][:12])!r}")

    def _missing_and_copies(self) -> None:
        copies = self.want.copies()
        for (tenant, kind, key), e in self.want.live.items():
            if tenant != self.tenant or (kind, key) in self.groups:
                continue
            if kind == "document" and not e.copy_key:
                continue  # no words: nothing the oracle could look for
            if not any((c.kind, c.key) in self.groups for c in copies.get((tenant, e.copy_key), ())):
                self.diff.missing.append(f"{self.name(kind, key)}: nothing stored (event {e.event_id})")
        for (tenant, _), members in copies.items():
            held = [c for c in members if (c.kind, c.key) in self.groups]
            if tenant != self.tenant or len(held) < 2:
                continue
            first = self.name(held[0].kind, held[0].key)
            self.diff.duplicate.extend(f"{self.name(c.kind, c.key)}: the same text as {first} (event {c.event_id})"
                                       for c in held[1:])

    def _same_text_twice(self) -> None:
        """A chunk text stored under two entities that are not exact copies as a whole (those are above)."""
        copy_of = {(e.kind, e.key): e.copy_key for e in self.want.live.values() if e.tenant == self.tenant}
        first: dict[str, tuple[str, str]] = {}
        for (kind, key), group in self.groups.items():
            if kind != "document":  # an app chunk holds its event's time and actor; readings repeat legitimately
                continue
            for o in group:
                text = normalized(str(o.get("text") or ""))
                other = first.setdefault(text, (kind, key))
                if text and other != (kind, key) and copy_of.get(other) != copy_of.get((kind, key)):
                    self.diff.duplicate.append(f"{self.name(kind, key)}#{o.get('chunk_index')}: the same text as a "
                                               f"chunk of {self.name(*other)}: {text[:80]!r}")


class _Words:
    """A word list searchable for runs of words, by position."""

    def __init__(self, words: list[str]) -> None:
        self.n, self.line, self.starts = len(words), " " + " ".join(words) + " ", []
        at = 1
        for w in words:
            self.starts.append(at)
            at += len(w) + 1

    def __len__(self) -> int:
        return self.n

    def find(self, run: list[str], start: int, end: int = 0) -> tuple[int, int] | None:
        """Word span [from, to) of the first occurrence of ``run`` with ``from >= start`` and ``to > end``."""
        needle = " " + " ".join(run) + " "
        while start < self.n:
            i = self.line.find(needle, self.starts[start] - 1)
            if i < 0:
                return None
            start = bisect.bisect_left(self.starts, i + 1)
            if start + len(run) > end:
                return start, start + len(run)
            start += 1
        return None


def _longest_run(words: list[str], chunk: list[str]) -> tuple[int, int] | None:
    m = SequenceMatcher(None, words, chunk, autojunk=False).find_longest_match(0, len(words), 0, len(chunk))
    return (m.a, m.a + m.size) if m.size else None


def _gaps(n: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The word ranges of [0, n) that no span covers."""
    out, at = [], 0
    for start, end in sorted(spans):
        if start > at:
            out.append((at, start))
        at = max(at, end)
    return out + [(at, n)] if at < n else out


def _value(obj: Object) -> float | None:
    v = obj.get("value")
    return None if v is None else float(v)
