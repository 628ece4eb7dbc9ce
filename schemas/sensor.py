"""SensorReading: one measurement of one metric of one device."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SensorReading(BaseModel):
    # Unknown fields are ignored: additive changes stay within a schema version.
    model_config = ConfigDict(frozen=True, extra="ignore")

    device_id: Short
    metric: Short = Field(description="What is measured, e.g. temperature, co2, flow.")
    value: float
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("value must be a finite number")
        return v
