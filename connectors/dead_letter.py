"""Dead-letter records: the original bytes plus why, where and when they failed.

Input: a record some stage could not handle. Output: the same bytes and key on the
dead-letter topic, with headers ``headwater.reason`` (one line: ``<category>: <detail>``),
``headwater.stage``, ``headwater.topic``, ``headwater.partition``, ``headwater.offset``
and ``headwater.time``. The original is never re-encoded, so it can be fixed and replayed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.producer import Delivered, Producer

MAX_REASON = 1000


def dead_letter_headers(*, reason: str, stage: str, source_topic: str = "", partition: int = -1,
                        offset: int = -1, now: datetime | None = None) -> dict[str, str]:
    """The headers of one dead-letter record (pure; ``now`` defaults to the current UTC time).

    ``reason`` is folded to one line and cut at ``MAX_REASON`` characters; ``partition`` and
    ``offset`` are -1 when the record never was in Kafka (a source or HTTP rejected it).
    """
    return {
        "headwater.reason": " ".join(reason.split())[:MAX_REASON],
        "headwater.stage": stage,
        "headwater.topic": source_topic,
        "headwater.partition": str(partition),
        "headwater.offset": str(offset),
        "headwater.time": (now or datetime.now(UTC)).isoformat(),
    }


async def send_dead_letter(producer: Producer, topic: str, original: bytes | None, key: bytes | None,
                           reason: str, stage: str, source_topic: str = "", partition: int = -1,
                           offset: int = -1) -> Delivered:
    """Write ``original`` (unchanged) and ``key`` to the dead-letter ``topic``; wait for the broker.

    Raises:
        DeliveryFailed: the dead-letter record itself could not be written; the caller
            must not acknowledge the original then.
    """
    headers = dead_letter_headers(reason=reason, stage=stage, source_topic=source_topic,
                                  partition=partition, offset=offset)
    return await producer.send(topic, original, key, headers)
