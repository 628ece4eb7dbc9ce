"""Typed, versioned Headwater events. Pure data: no I/O, no settings."""

from schemas.app import AppEvent
from schemas.document import Document
from schemas.envelope import (
    SCHEMA_VERSION,
    AppEventEnvelope,
    DocumentEvent,
    Event,
    Kind,
    SensorEvent,
    entity_id,
    message_key,
    stamp,
)
from schemas.limits import LIMIT_ENV, MAX_EVENT_BYTES, oversize_reason
from schemas.registry import InvalidEvent, decode, encode, json_schemas, parse_json, validate_obj
from schemas.sensor import SensorReading

AnyEvent = SensorEvent | AppEventEnvelope | DocumentEvent

__all__ = [
    "LIMIT_ENV", "MAX_EVENT_BYTES", "SCHEMA_VERSION", "AnyEvent", "AppEvent", "AppEventEnvelope", "Document",
    "DocumentEvent", "Event", "InvalidEvent", "Kind", "SensorEvent", "SensorReading", "decode", "encode", "entity_id",
    "json_schemas", "message_key", "oversize_reason", "parse_json", "stamp", "validate_obj",
]
