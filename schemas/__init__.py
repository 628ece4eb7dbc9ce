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
from schemas.registry import InvalidEvent, decode, encode, json_schemas, validate_obj
from schemas.sensor import SensorReading

AnyEvent = SensorEvent | AppEventEnvelope | DocumentEvent

__all__ = [
    "SCHEMA_VERSION", "AnyEvent", "AppEvent", "AppEventEnvelope", "Document", "DocumentEvent", "Event",
    "InvalidEvent", "Kind", "SensorEvent", "SensorReading", "decode", "encode", "entity_id",
    "json_schemas", "message_key", "stamp", "validate_obj",
]
