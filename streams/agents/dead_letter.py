"""Dead letters from the worker: a rejected record, its reason, stage and Kafka position in headers.

The value is the original record. When redaction is on, personal data is redacted field
by field before it reaches the dead-letter topic, so that topic is not a PII leak and the
record can still be fixed and replayed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connectors.dead_letter import dead_letter_headers, redact_value
from streams.agents.runtime import Runtime
from streams.transforms.curate.pii import redact
from streams.transforms.validate import Rejected


def _text_of(scrub: Callable[[str], tuple[str, Any]], text: str) -> str:
    return scrub(text)[0]


async def send(rt: Runtime, topic: Any, rejected: list[Rejected]) -> None:
    """Write one dead letter per rejected record and wait until Kafka holds each."""
    for r in rejected:
        p = r.item.position
        headers = dead_letter_headers(reason=r.reason, stage=r.stage, source_topic=p.topic,
                                      partition=p.partition, offset=p.offset)
        value = r.item.value or b""
        if rt.settings.curate.redact_dead_letters:
            scrub = rt.curation.redact_text if rt.curation is not None and rt.curation.redact_pii else redact
            # Field by field: the dead letter stays the original record, valid JSON with its ids intact,
            # so it can be fixed and replayed (`headwater deadletter replay`).
            value = redact_value(r.item.value, functools.partial(_text_of, scrub))
            headers["headwater.reason"] = scrub(headers["headwater.reason"])[0]
            headers["headwater.redacted"] = "true"
        fut = await topic.send(key=r.item.key, value=value, headers=[(k, v.encode()) for k, v in headers.items()])
        await fut
        rt.metrics.counts[f"dead_letter.{r.stage}"] += 1
