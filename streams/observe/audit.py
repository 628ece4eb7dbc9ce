"""Read the curation audit topic: every drop and redaction, by reason and kind."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer

from connectors.config import kafka_config
from streams.settings import Settings


def read_audit(settings: Settings, idle_s: float = 2.0) -> Iterator[dict[str, Any]]:
    """Every audit record from the beginning until the topic has been idle for ``idle_s``."""
    c = Consumer({**kafka_config(settings.kafka, "headwater-audit"), "group.id": f"audit-{uuid.uuid4().hex}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([settings.topics.audit])
    last = time.monotonic()
    try:
        while time.monotonic() - last < idle_s:
            msg = c.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            last = time.monotonic()
            yield json.loads(msg.value() or b"null")
    finally:
        c.close()


def summarize(records: Iterator[dict[str, Any]]) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """(drops by (reason, kind), redactions by (label, kind))."""
    drops: Counter[tuple[str, str]] = Counter()
    redactions: Counter[tuple[str, str]] = Counter()
    for r in records:
        if r.get("action") == "drop":
            drops[(r["reason"].split(" ")[0], r["kind"])] += 1
        elif r.get("action") == "redact":
            for label, n in r.get("labels", {}).items():
                redactions[(label, r["kind"])] += n
    return drops, redactions
