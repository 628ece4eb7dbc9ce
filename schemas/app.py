"""AppEvent: something an application or its user did."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AppEvent(BaseModel):
    # Unknown fields are ignored: additive changes stay within a schema version.
    model_config = ConfigDict(frozen=True, extra="ignore")

    app: Short
    action: Short
    actor: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    message: Annotated[str, StringConstraints(max_length=20_000)] = Field(
        default="", description="Free text; what a question will be matched against.")
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
