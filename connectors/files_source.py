"""Files source: text, Markdown, HTML and PDF files (or folders of them) as document events.

Input: paths, each a file or a folder (searched recursively; hidden files and folders are
skipped). Output: :class:`~connectors.source.Incoming` s for
:func:`~connectors.source.run_source`: one ``DocumentEvent`` upsert per file and, with
``watch``, an upsert for every new or changed file and a ``Document(deleted=True)`` event
for every deleted one, until ``stop`` is set.

Semantics:
- ``doc_id`` is the file's canonical absolute path (symlinks and ``..`` resolved, POSIX
  separators), however it was named: ``docs/`` and ``docs/moon.txt`` give the same id.
  With ``id_root`` (``headwater ingest --root DIR``), ids are paths below that folder, so
  a tree keeps its ids when it moves to another machine. A rename is a delete and an upsert.
- ``version`` is the file's mtime in milliseconds. The watcher keeps versions strictly
  increasing per document: a change whose mtime is not newer, and a delete, get at least
  the last version + 1 (a delete gets the current time in ms when that is higher).
- ``event_id`` is ``doc_id#<sha256 of the file's bytes, 16 hex>``: re-ingesting an
  unchanged file produces the same event again, which downstream treats as a no-op
  (the index keys documents by ``doc_id`` and ``version``, not by event id).
- Text: ``.txt`` as is, ``.md`` as is (title: first heading), ``.html``/``.htm`` without
  tags, scripts and styles (title: ``<title>``), ``.pdf`` via pypdf (title: metadata).
  Files must be UTF-8. Other titles are the file name.
- Errors never stop the source: an unreadable, undecodable, oversized or unsupported
  file, or a PDF without extractable text, becomes an error item (a dead letter) whose
  reason names the file and what to do, and whose bytes are a small JSON reference
  (``path``, ``doc_id``, ``size``), never the file itself.
- Size: a file whose event would exceed ``max_event_bytes`` (the one event limit,
  ``HEADWATER_KAFKA__MAX_EVENT_BYTES``; pass ``settings.kafka.max_event_bytes``) is such an
  error item, refused here rather than dead-lettered by the worker later.
- Watching polls every ``interval`` seconds (mtime and size). Deletes that happen while
  no watcher runs are not detected.

Example::

    source = FilesSource([Path("docs")], tenant="acme", watch=True, stop=stop)
    counts = await run_source(source, producer, settings.topics)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from connectors.parsers import MAX_FILE_BYTES, SUFFIXES, Extracted, ExtractError, extract_text, verbatim
from connectors.source import Incoming, utcnow
from schemas import LIMIT_ENV, MAX_EVENT_BYTES, DocumentEvent, InvalidEvent, encode, oversize_reason, validate_obj

log = logging.getLogger(__name__)

__all__ = ["SUFFIXES", "Diff", "ExtractError", "Extracted", "FileState", "FilesSource", "Snapshot",
           "delete_event", "diff", "event_id_for", "extract_text", "file_item", "scan", "too_big", "upsert_event"]

# --- snapshots (scan does I/O, diff is pure) --------------------------------------------------


@dataclass(frozen=True)
class FileState:
    """What the watcher compares (``mtime_ns``, ``size``) and the file's ``doc_id``."""

    mtime_ns: int
    size: int
    doc_id: str


Snapshot = dict[Path, FileState]


@dataclass(frozen=True)
class Diff:
    """Paths that appeared, whose mtime or size changed, and that disappeared (each sorted)."""

    new: list[Path]
    changed: list[Path]
    deleted: list[Path]


def diff(old: Snapshot, new: Snapshot) -> Diff:
    """What changed from snapshot ``old`` to snapshot ``new`` (pure)."""
    return Diff(new=sorted(p for p in new if p not in old),
                changed=sorted(p for p in new if p in old and new[p] != old[p]),
                deleted=sorted(p for p in old if p not in new))


def scan(roots: Sequence[Path], id_root: Path | None = None) -> Snapshot:
    """The supported files under ``roots`` now (a root that is a file is taken whatever its type)."""
    snapshot: Snapshot = {}
    for root in roots:
        for path, doc_id in _candidates(root, id_root):
            try:
                st = path.stat()
            except OSError:  # vanished since listing: the next scan decides
                continue
            snapshot[path] = FileState(st.st_mtime_ns, st.st_size, doc_id)
    return snapshot


def doc_id_for(path: Path, id_root: Path | None = None) -> str:
    """A file's document id: its canonical absolute path, or its path below ``id_root``.

    However the file is named on the command line (``docs/``, ``./docs/moon.txt``, an absolute
    path, a symlink), the same file gets the same id; a rename or move is a delete and an upsert.
    """
    real = path.resolve()
    if id_root is not None and real.is_relative_to(id_root.resolve()):
        return real.relative_to(id_root.resolve()).as_posix()
    return real.as_posix()


def _candidates(root: Path, id_root: Path | None = None) -> Iterator[tuple[Path, str]]:
    root = root.absolute()
    if root.is_file():
        yield root, doc_id_for(root, id_root)
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES:
                path = Path(folder, name)
                yield path, doc_id_for(path, id_root)


# --- events (pure) ----------------------------------------------------------------------------


def event_id_for(doc_id: str, data: bytes) -> str:
    """``doc_id#<sha256 16 hex>``; a hash of the doc id replaces it when the id would pass 200 chars."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    head = doc_id if len(doc_id) <= 180 else hashlib.sha256(doc_id.encode()).hexdigest()[:32]
    return f"{head}#{digest}"


def upsert_event(path: Path, state: FileState, data: bytes, *, version: int, source: str, tenant: str,
                 max_event_bytes: int = MAX_EVENT_BYTES) -> DocumentEvent:
    """The upsert event of a file read as ``data``; ``event_time`` is its mtime.

    Raises:
        ExtractError: no text. InvalidEvent: the document breaks the schema, or its event
            would be larger than ``max_event_bytes`` (reason :func:`too_big`).
    """
    got = extract_text(path.name, data)
    text_bytes = len(got.text.encode())
    if text_bytes > max_event_bytes:  # checked before the schema, whose character cap would word it worse
        raise InvalidEvent(too_big(path, text_bytes, max_event_bytes))
    payload = {"doc_id": state.doc_id, "title": got.title[:500], "uri": path.absolute().as_uri(),
               "content_type": got.content_type, "text": got.text, "version": version}
    event = _event(event_id_for(state.doc_id, data), datetime.fromtimestamp(state.mtime_ns / 1e9, UTC),
                   payload, source, tenant)
    if (size := len(encode(event))) > max_event_bytes:
        raise InvalidEvent(too_big(path, size, max_event_bytes))
    return event


def too_big(path: Path, size: int, limit: int) -> str:
    """Why a file cannot be one event, and the two ways out (pure)."""
    return (f"{oversize_reason(f'the event of file {path}', size, limit)}; split the file into smaller "
            f"files, or raise {LIMIT_ENV} up to the broker's message.max.bytes (less 64 KiB)")


def delete_event(path: Path, doc_id: str, *, version: int, now: datetime, source: str,
                 tenant: str) -> DocumentEvent:
    """The ``deleted=True`` event of a file that disappeared."""
    payload = {"doc_id": doc_id, "uri": path.absolute().as_uri(), "version": version, "deleted": True}
    head = doc_id if len(doc_id) <= 160 else hashlib.sha256(doc_id.encode()).hexdigest()[:32]
    return _event(f"{head}#deleted@{version}", now, payload, source, tenant)


def _event(event_id: str, when: datetime, payload: dict[str, object], source: str,
           tenant: str) -> DocumentEvent:
    event = validate_obj({"kind": "document", "event_id": event_id, "source": source, "tenant": tenant,
                          "event_time": when, "payload": payload})
    assert isinstance(event, DocumentEvent)
    return event


def file_item(path: Path, state: FileState, data: bytes, *, version: int, source: str, tenant: str,
              max_event_bytes: int = MAX_EVENT_BYTES) -> Incoming:
    """``upsert_event`` as a source item, or an error item naming the file and the reason (pure)."""
    try:
        event = upsert_event(path, state, data, version=version, source=source, tenant=tenant,
                             max_event_bytes=max_event_bytes)
    except ExtractError as exc:
        return _error_item(path, state, f"{exc} (file {path})")
    except InvalidEvent as exc:
        reason = exc.reason if str(path) in exc.reason else f"{exc.reason} (file {path})"
        return _error_item(path, state, reason)
    return Incoming(event=event)


def _error_item(path: Path, state: FileState, reason: str) -> Incoming:
    ref = {"path": str(path), "doc_id": state.doc_id, "size": state.size}
    return Incoming(raw=json.dumps(ref).encode(), error=reason)


# --- the source -------------------------------------------------------------------------------


@dataclass
class FilesSource:
    """Files under ``roots`` as document events; with ``watch``, changes until ``stop`` is set.

    ``counters`` counts ``files`` read, ``upserts``, ``deletes`` and ``errors`` (items, not
    yet confirmed by Kafka: :func:`~connectors.source.run_source` reports those).
    """

    roots: list[Path]
    source: str = "files"
    tenant: str = "default"
    watch: bool = False
    interval: float = 1.0
    stop: asyncio.Event | None = None
    max_bytes: int = MAX_FILE_BYTES
    max_event_bytes: int = MAX_EVENT_BYTES  # the one event limit: settings.kafka.max_event_bytes
    id_root: Path | None = None  # document ids relative to this folder (default: canonical absolute paths)
    clock: Callable[[], datetime] = utcnow
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("files", "upserts", "deletes",
                                                                             "errors"), 0))
    _versions: dict[str, int] = field(default_factory=dict, repr=False)

    def __aiter__(self) -> AsyncIterator[Incoming]:
        return self._items()

    async def _items(self) -> AsyncIterator[Incoming]:
        known: Snapshot = {}
        while True:
            current = await asyncio.to_thread(scan, self.roots, self.id_root)
            change = diff(known, current)
            for path in change.new + change.changed:
                item = await asyncio.to_thread(self._read, path, current[path])
                if item is not None:
                    yield item
            for path in change.deleted:
                yield self._deleted(path, known[path])
            known = current
            if not self.watch or await self._stopped():
                return

    async def _stopped(self) -> bool:
        """Wait one polling interval; True when ``stop`` was set meanwhile."""
        if self.stop is None:
            await asyncio.sleep(self.interval)
            return False
        try:
            await asyncio.wait_for(self.stop.wait(), self.interval)
        except TimeoutError:
            return False
        return True

    def _read(self, path: Path, state: FileState) -> Incoming | None:
        self.counters["files"] += 1
        if state.size > self.max_bytes:
            return self._count(_error_item(path, state, f"oversize: {path} has {state.size} bytes, more than "
                                                        f"the {self.max_bytes} allowed; split it"))
        if verbatim(path.name) and state.size > self.max_event_bytes + 3:  # + a UTF-8 BOM; no need to read it
            return self._count(_error_item(path, state, too_big(path, state.size, self.max_event_bytes)))
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # deleted since the scan: the next scan sends the delete
            return None
        except OSError as exc:
            return self._count(_error_item(path, state, f"read: cannot read {path}: {exc.strerror or exc}; "
                                                        "check that it is a readable file"))
        version = self._next_version(state.doc_id, state.mtime_ns // 1_000_000)
        return self._count(file_item(path, state, data, version=version, source=self.source,
                                     tenant=self.tenant, max_event_bytes=self.max_event_bytes))

    def _deleted(self, path: Path, state: FileState) -> Incoming:
        now = self.clock()
        version = self._next_version(state.doc_id, int(now.timestamp() * 1000))
        self.counters["deletes"] += 1
        return Incoming(event=delete_event(path, state.doc_id, version=version, now=now,
                                             source=self.source, tenant=self.tenant))

    def _next_version(self, doc_id: str, wanted: int) -> int:
        version = max(wanted, self._versions.get(doc_id, -1) + 1)
        self._versions[doc_id] = version
        return version

    def _count(self, item: Incoming) -> Incoming:
        self.counters["upserts" if item.event is not None else "errors"] += 1
        return item
