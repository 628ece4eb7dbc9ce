"""Dead letters from the worker: a rejected record, its reason, stage and Kafka position in headers.

The value is the original record. When redaction is on, personal data is redacted field
by field before it reaches the dead-letter topic, so that topic is not a PII leak and the
record can still be fixed and replayed. A value that cannot be kept so (too large, or binary
while redacting) is a reference to it (:func:`connectors.dead_letter.letter`).

:func:`redactor` is the one rule for how dead letters are redacted, at the doors too
(``headwater ingest``, ``connect mqtt``, ``connect replay``), so it imports no faust.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiokafka.errors import KafkaTimeoutError, ProducerClosed

from connectors.dead_letter import Redact, dead_letter_headers, deliver
from streams.settings import CurateSettings
from streams.transforms.curate.policy import Curation
from streams.transforms.validate import Rejected

if TYPE_CHECKING:
    from streams.agents.runtime import Runtime

# The worker's producer refuses a larger request (aiokafka's max_request_size, set in app.py).
MAX_REQUEST_BYTES = 4_194_304
# Beside the value: key, headers, record and batch overhead (the broker's limit is max_event_bytes + 64 KiB).
HEADROOM = 65_536


def redactor(s: CurateSettings, curation: Curation | None = None) -> Redact | None:
    """How dead letters are redacted under ``s``; None when ``redact_dead_letters`` is off.

    The worker passes its ``curation``: when that redacts PII, dead letters get the same redaction
    as the index (built-in and configured patterns, the optional recognizer). Otherwise (a door,
    or PII redaction off for the index) the built-in and configured patterns.
    """
    if not s.redact_dead_letters:
        return None
    if curation is None or not curation.redact_pii:
        curation = Curation(patterns=tuple((k, re.compile(v)) for k, v in s.pii_patterns.items()))
    scrub = curation.redact_text
    return lambda text: scrub(text)[0]


async def send(rt: Runtime, topic: Any, rejected: list[Rejected]) -> None:
    """Write one dead letter per rejected record and wait until Kafka holds each.

    A value that, redacted, with key and headers, would pass the event limit (or the producer's
    request limit, less :data:`HEADROOM`), a binary value while redacting, and one Kafka refuses
    for its own sake (message too large, ...) are written as a reference: size, sha256, first bytes.

    Raises:
        Exception: only transient errors (Kafka down or slow, the producer stopping), never one
            of a record's own: the caller retries the batch, and nothing was acknowledged.
    """
    redact_text = redactor(rt.settings.curate, rt.curation)
    limit = min(rt.settings.kafka.max_event_bytes, MAX_REQUEST_BYTES - HEADROOM)
    for r in rejected:
        p = r.item.position
        headers = dead_letter_headers(reason=r.reason, stage=r.stage, source_topic=p.topic,
                                      partition=p.partition, offset=p.offset)
        await deliver(_sender(topic, r.item.key), r.item.value or b"", r.item.key, headers, limit=limit,
                      redact_text=redact_text, transient=transient)
        rt.metrics.counts[f"dead_letter.{r.stage}"] += 1


def _sender(topic: Any, key: bytes | None) -> Callable[[bytes | None, dict[str, str]], Any]:
    async def put(value: bytes | None, headers: dict[str, str]) -> Any:
        fut = await topic.send(key=key, value=value, headers=[(k, v.encode()) for k, v in headers.items()])
        return await fut

    return put


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it: faust wraps aiokafka's errors) is Kafka's trouble, not the record's."""
    cause: BaseException | None = exc
    while cause is not None:
        # aiokafka marks broker and network errors retriable, but not its own timeouts or a closing producer.
        if getattr(cause, "retriable", False) or isinstance(cause, KafkaTimeoutError | ProducerClosed
                                                                          | ConnectionError | TimeoutError):
            return True
        cause = cause.__cause__
    return False
