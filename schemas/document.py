"""Document: a versioned text; a newer version replaces the older one, deleted=true removes it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    doc_id: Short
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    uri: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    content_type: Annotated[str, StringConstraints(max_length=100)] = "text/plain"
    text: str = Field(default="", max_length=5_000_000)
    version: int = Field(default=1, ge=0, description="Monotonic per doc_id; higher replaces lower.")
    deleted: bool = False

    @model_validator(mode="after")
    def _text_unless_deleted(self) -> Document:
        if not self.deleted and not self.text.strip():
            raise ValueError("text must not be empty unless deleted is true")
        return self
