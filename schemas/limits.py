"""The one size limit of an event, shared by every door (HTTP, MQTT, files) and the worker.

The limit is a setting (``KafkaSettings.max_event_bytes``, ``HEADWATER_KAFKA__MAX_EVENT_BYTES``);
this module holds its default and the one wording of the refusal, so that a user reads the
same reason whichever door refused the event.
"""

from __future__ import annotations

# Default of KafkaSettings.max_event_bytes; the broker's message.max.bytes is this plus room for
# the key and headers, so an event a door accepted always fits in Kafka.
MAX_EVENT_BYTES = 4_000_000
LIMIT_ENV = "HEADWATER_KAFKA__MAX_EVENT_BYTES"


def oversize_reason(what: str, size: int, limit: int) -> str:
    """One line: ``oversize: <what> is <size> bytes, more than the limit of <limit> bytes (...)``."""
    return (f"oversize: {what} is {size} bytes, more than the limit of {limit} bytes "
            f"(max_event_bytes, {LIMIT_ENV})")
