"""Document: a versioned text; a newer version replaces the older one, deleted=true removes it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.limits import MAX_EVENT_BYTES

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Document(BaseModel):
    # Unknown fields are ignored: additive changes stay within a schema version.
    model_config = ConfigDict(frozen=True, extra="ignore")

    doc_id: Short
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    uri: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    content_type: Annotated[str, StringConstraints(max_length=100)] = "text/plain"
    # A character is at least one byte, so no text longer than the default byte limit can fit in an
    # event; the byte limit itself (max_event_bytes) is checked on the whole encoded event at every door.
    text: str = Field(default="", max_length=MAX_EVENT_BYTES, description=(
        "The document's text. The whole encoded event must fit in max_event_bytes "
        "(HEADWATER_KAFKA__MAX_EVENT_BYTES, default 4000000 bytes); split larger documents."))
    # Weaviate stores the version as a 64-bit integer.
    version: int = Field(default=1, ge=0, le=2**63 - 1,
                         description="Monotonic per doc_id; higher replaces lower.")
    deleted: bool = False

    @model_validator(mode="after")
    def _text_unless_deleted(self) -> Document:
        if not self.deleted and not self.text.strip():
            raise ValueError("text must not be empty unless deleted is true")
        return self
