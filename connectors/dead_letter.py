"""Dead-letter records: the original bytes plus why, where and when they failed.

Input: a record some stage could not handle. Output: its dead letter on the dead-letter topic,
with headers ``headwater.reason`` (one line: ``<category>: <detail>``), ``headwater.stage``,
``headwater.topic``, ``headwater.partition``, ``headwater.offset`` and ``headwater.time``.

The value is the original, so that it can be fixed and replayed: unchanged, or with a
``redact_text`` redacted field by field (:func:`redact_value`: ids kept, the reason redacted too,
header ``headwater.redacted: true``). What cannot be kept so becomes a small JSON
:func:`reference` (why, size, sha256 and first bytes of the original), header
``headwater.value: reference``: a value that would not fit the limit (with key and headers),
bytes that are not UTF-8 while redacting (redaction cannot read them, and their replacement
characters would triple them), a value Kafka refused. :func:`deliver` applies these rules with
any producer: the doors' (:func:`send_dead_letter`) and the worker's (faust).

Reading the topic back (``headwater deadletter``): :mod:`connectors.dead_letter_read`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from connectors.producer import Delivered, DeliveryFailed, Producer

log = logging.getLogger(__name__)

T = TypeVar("T")
Redact = Callable[[str], str]  # text in, the same text with personal data replaced
Send = Callable[[bytes | None, dict[str, str]], Awaitable[T]]  # one record (value, headers) to Kafka, awaited

MAX_REASON = 1000
HEAD_BYTES = 512  # how much of an original its reference keeps, to recognise it by

# Identity and routing fields: they survive redaction so that a dead letter can be fixed and replayed.
KEEP_FIELDS = frozenset({
    "schema_version", "kind", "event_id", "source", "tenant", "event_time", "ingest_time", "doc_id", "version",
    "deleted", "device_id", "metric", "unit", "app", "action", "content_type", "uri", "path"})


def dead_letter_headers(*, reason: str, stage: str, source_topic: str = "", partition: int = -1,
                        offset: int = -1, now: datetime | None = None) -> dict[str, str]:
    """The headers of one dead-letter record (pure; ``now`` defaults to the current UTC time).

    ``reason`` is folded to one line and cut at ``MAX_REASON`` characters; ``partition`` and
    ``offset`` are -1 when the record never was in Kafka (a source or HTTP rejected it).
    """
    return {
        "headwater.reason": _one_line(reason),
        "headwater.stage": stage,
        "headwater.topic": source_topic,
        "headwater.partition": str(partition),
        "headwater.offset": str(offset),
        "headwater.time": (now or datetime.now(UTC)).isoformat(),
    }


def _one_line(text: str) -> str:
    # A lone surrogate (from a JSON escape in the record) cannot go out as UTF-8: kept as its escape.
    return " ".join(text.split())[:MAX_REASON].encode("utf-8", "backslashreplace").decode()


async def send_dead_letter(producer: Producer, topic: str, original: bytes | None, key: bytes | None,
                           reason: str, stage: str, source_topic: str = "", partition: int = -1,
                           offset: int = -1, *, redact_text: Redact | None = None) -> Delivered:
    """Write the dead letter of ``original`` and ``key`` to ``topic``; wait for the broker.

    ``original`` is kept unchanged, or redacted field by field with ``redact_text``; one above
    ``producer.max_event_bytes`` (with key and headers), not UTF-8 while redacting, or refused by
    the broker for good, is sent as a :func:`reference`: a dead letter never fails for its content.

    Raises:
        DeliveryFailed: only errors that are not the record's: retriable ones (Kafka down or slow),
            or even the reference was refused. The caller must not acknowledge the original then.
    """
    headers = dead_letter_headers(reason=reason, stage=stage, source_topic=source_topic,
                                  partition=partition, offset=offset)
    return await deliver(lambda value, out: producer.send(topic, value, key, out), original, key, headers,
                         limit=producer.max_event_bytes, redact_text=redact_text,
                         transient=lambda exc: not isinstance(exc, DeliveryFailed) or exc.retriable)


async def deliver(send: Send[T], original: bytes | None, key: bytes | None, headers: dict[str, str], *,
                  limit: int, redact_text: Redact | None, transient: Callable[[Exception], bool]) -> T:
    """``send`` the dead letter of ``original`` (:func:`letter`) and wait for it; when that fails for
    the record's own sake (``transient`` says no: too large for the broker, ...), send its
    :func:`reference` instead. A letter that cannot even be built is a reference too ("unreadable").

    Raises:
        Exception: only errors that are not the record's: those ``transient`` says yes to, or any
            when even the reference failed. The caller retries; nothing of the record is lost.
    """
    try:
        value, out = letter(original, key, headers, limit=limit, redact_text=redact_text)
    except Exception:  # noqa: BLE001 - pure: whatever failed here failed on this record's content
        log.exception("dead letter of a record could not be built; keeping a reference to it")
        value, out = _unreadable(original or b"", headers, redact_text is not None)
    try:
        return await send(value, out)
    except Exception as exc:
        if transient(exc) or original is None or out.get("headwater.value") == "reference":
            raise
        log.warning("dead letter refused (%s); sending a reference to the original instead", exc)
    value, out = _as_reference(original, _outgoing(headers, redact_text), "refused", redact_text)
    return await send(value, out)


def letter(original: bytes | None, key: bytes | None, headers: dict[str, str], *, limit: int,
           redact_text: Redact | None = None) -> tuple[bytes | None, dict[str, str]]:
    """The value and headers of the dead letter of ``original`` (pure).

    With ``redact_text`` the value is :func:`redact_value` of ``original`` and the reason is redacted
    too (header ``headwater.redacted: true``); bytes that are not UTF-8 become a reference ("binary").
    A value that with ``key`` and headers would pass ``limit`` bytes becomes a reference ("oversize").
    """
    headers, value = _outgoing(headers, redact_text), original
    if original is not None and len(original) > limit:  # Kafka could not hold it: not worth redacting
        return _as_reference(original, headers, "oversize", redact_text)
    if redact_text is not None and original is not None:
        value = redact_value(original, redact_text)
        if value is None:
            return _as_reference(original, headers, "binary", redact_text)
    if original is not None and _size(value, key, headers) > limit:
        return _as_reference(original, headers, "oversize", redact_text)
    return value, headers


def reference(original: bytes, why: str, redact_text: Redact | None = None) -> bytes:
    """What stands in for an original a dead letter cannot carry (pure): ``why`` (``oversize``,
    ``binary``, ``refused``, ``unreadable``), its size, sha256 and first bytes as text (bytes that
    are not UTF-8 as ``\\xNN`` escapes; redacted with ``redact_text``). At most a few KB."""
    ref = {"reference": {"why": why, "bytes": len(original), "sha256": hashlib.sha256(original).hexdigest(),
                         "head": _head(original, redact_text)}}
    return json.dumps(ref).encode()


def _head(original: bytes, redact_text: Redact | None) -> str:
    if redact_text is None:
        return original[:HEAD_BYTES].decode("utf-8", errors="backslashreplace")
    # Redacted over a wider window, then cut: personal data that starts in the head is seen whole.
    window = original[:4 * HEAD_BYTES].decode("utf-8", errors="backslashreplace")
    return redact_text(window)[:HEAD_BYTES]


def _as_reference(original: bytes, headers: dict[str, str], why: str,
                  redact_text: Redact | None) -> tuple[bytes, dict[str, str]]:
    return reference(original, why, redact_text), {**headers, "headwater.value": "reference"}


def _unreadable(original: bytes, headers: dict[str, str], redacting: bool) -> tuple[bytes, dict[str, str]]:
    # Building its letter failed (the redactor, say): no head, and of the reason only its category.
    if redacting:
        category = headers["headwater.reason"].split(":")[0][:40]
        headers = {**headers, "headwater.redacted": "true",
                   "headwater.reason": f"{category}: (not kept: redacting this record failed)"}
    return _as_reference(original, headers, "unreadable", lambda _: "")


def _outgoing(headers: dict[str, str], redact_text: Redact | None) -> dict[str, str]:
    if redact_text is None:
        return headers
    # The reason may quote the record ("got 'call +49 ...'"): it is redacted like the value.
    return {**headers, "headwater.reason": _one_line(redact_text(headers["headwater.reason"])),
            "headwater.redacted": "true"}


def _size(value: bytes | None, key: bytes | None, headers: dict[str, str]) -> int:
    return len(value or b"") + len(key or b"") + sum(len(k) + len(v.encode()) for k, v in headers.items())


# --- redaction (pure) -------------------------------------------------------------------------


def redact_value(value: bytes, redact_text: Redact) -> bytes | None:
    """``value`` with every JSON string leaf passed through ``redact_text``, except :data:`KEEP_FIELDS`.

    The result is valid JSON of the same structure (object keys are kept as they are). UTF-8 text
    that is not JSON (or too deep to walk) comes back as ``redact_text`` over the text. Bytes that
    are not UTF-8 come back as None: redaction cannot read them (keep a :func:`reference`).
    """
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        redacted = json.dumps(_redact(json.loads(text), redact_text, None), ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON, a number past the digit limit, too deep
        redacted = redact_text(text)
    # A JSON escape of a lone surrogate ("\\ud800") decodes to a str UTF-8 cannot hold: written back as that escape.
    return redacted.encode("utf-8", errors="backslashreplace")


def _redact(node: Any, redact_text: Redact, key: str | None) -> Any:
    if isinstance(node, str):
        return node if key in KEEP_FIELDS else redact_text(node)
    if isinstance(node, dict):
        return {k: _redact(v, redact_text, k) for k, v in node.items()}
    if isinstance(node, list):  # items of a list belong to the list's field
        return [_redact(v, redact_text, key) for v in node]
    return node
