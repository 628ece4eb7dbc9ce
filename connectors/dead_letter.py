"""Dead-letter records: the original bytes plus why, where and when they failed.

Headers: ``headwater.reason`` (one line: ``<category>: <detail>``), ``headwater.stage``,
``headwater.topic``, ``headwater.partition``, ``headwater.offset``, ``headwater.time``.
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_REASON = 1000


def dead_letter_headers(*, reason: str, stage: str, source_topic: str = "", partition: int = -1,
                        offset: int = -1, now: datetime | None = None) -> dict[str, str]:
    return {
        "headwater.reason": " ".join(reason.split())[:MAX_REASON],
        "headwater.stage": stage,
        "headwater.topic": source_topic,
        "headwater.partition": str(partition),
        "headwater.offset": str(offset),
        "headwater.time": (now or datetime.now(UTC)).isoformat(),
    }
