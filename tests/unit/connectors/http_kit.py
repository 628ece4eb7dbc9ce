"""Bodies for the HTTP ingest tests: one sensor event as JSON-ready data."""

from __future__ import annotations

from typing import Any


def sensor(i: int = 0, **payload: Any) -> dict[str, Any]:
    return {"kind": "sensor", "event_id": f"e{i}", "source": "test", "event_time": "2026-01-01T00:00:00Z",
            "payload": {"device_id": "d", "metric": "m", "value": 1.0} | payload}
