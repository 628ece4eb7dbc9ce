"""The versioned event envelope shared by every topic.

An event is an envelope (id, kind, source, tenant, times, schema version) around a
kind-specific payload. Additive changes stay within a schema version; a breaking
change gets a new version and an upcaster in :mod:`schemas.registry`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from schemas.app import AppEvent
from schemas.document import Document
from schemas.sensor import SensorReading

SCHEMA_VERSION: Literal[1] = 1

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ReaderTag = Annotated[str, StringConstraints(pattern=r"^(group|principal):[^\s:]{1,200}$")]
TenantName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]


class Kind(StrEnum):
    SENSOR = "sensor"
    APP = "app"
    DOCUMENT = "document"


class _Envelope(BaseModel):
    # Unknown fields are ignored: additive changes stay within a schema version.
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: Name = Field(description="Unique id of this event; producers make it stable across retries.")
    source: Name = Field(description="Where the event came from: connector, device gateway, app.")
    tenant: TenantName = Field(default="default", description="Isolation unit: one Weaviate tenant each.")
    event_time: AwareDatetime = Field(description="When the fact happened (timezone-aware).")
    ingest_time: AwareDatetime | None = Field(default=None, description="When Headwater accepted it.")
    readers: list[ReaderTag] = Field(default_factory=list, description=(
        'Who may read it: "group:NAME" or "principal:NAME" entries; empty = everyone in the tenant.'))


class SensorEvent(_Envelope):
    kind: Literal[Kind.SENSOR] = Kind.SENSOR
    payload: SensorReading


class AppEventEnvelope(_Envelope):
    kind: Literal[Kind.APP] = Kind.APP
    payload: AppEvent


class DocumentEvent(_Envelope):
    kind: Literal[Kind.DOCUMENT] = Kind.DOCUMENT
    payload: Document


Event = Annotated[SensorEvent | AppEventEnvelope | DocumentEvent, Field(discriminator="kind")]


def entity_id(event: SensorEvent | AppEventEnvelope | DocumentEvent) -> str:
    """The entity an event is about: device, app, or document."""
    if isinstance(event, SensorEvent):
        return event.payload.device_id
    if isinstance(event, DocumentEvent):
        return event.payload.doc_id
    return event.payload.app


def message_key(event: SensorEvent | AppEventEnvelope | DocumentEvent) -> bytes:
    """Kafka key: all events of one entity of one tenant land in one partition, in order."""
    return f"{event.tenant}/{entity_id(event)}".encode()


def stamp(event: SensorEvent | AppEventEnvelope | DocumentEvent, now: datetime
          ) -> SensorEvent | AppEventEnvelope | DocumentEvent:
    """Set ``ingest_time`` once; an already stamped event keeps its time."""
    return event if event.ingest_time is not None else event.model_copy(update={"ingest_time": now})
