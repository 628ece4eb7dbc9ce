"""Stage 2, render: typed event -> text to embed plus structured properties.

Sensor readings and app events become one plain sentence, so that a question in
words ("what temperature did pump 7 report?") finds them; documents keep their text.
Deterministic: no clock, no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent

UNITS = {"c": "°C", "degc": "°C", "celsius": "°C", "f": "°F", "degf": "°F", "pct": "%", "percent": "%"}


@dataclass(frozen=True)
class Rendered:
    text: str
    title: str
    properties: dict[str, str | int | float | bool]


def pretty_unit(unit: str) -> str:
    return UNITS.get(unit.strip().lower(), unit.strip())


def _when(event: AnyEvent) -> str:
    return event.event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _value(v: float) -> str:
    return f"{v:g}"


def render_sensor(event: SensorEvent) -> Rendered:
    p = event.payload
    unit = pretty_unit(p.unit)
    where = f" in {p.location}" if p.location else ""
    tags = "".join(f", {k} {v}" for k, v in sorted(p.tags.items()))
    text = (f"Sensor {p.device_id}{where} reported {p.metric.replace('_', ' ')} "
            f"{_value(p.value)}{' ' + unit if unit else ''} at {_when(event)}{tags}.")
    props: dict[str, str | int | float | bool] = {
        "device_id": p.device_id, "metric": p.metric, "value": p.value, "unit": unit, "location": p.location}
    return Rendered(text, f"{p.device_id} {p.metric}", props)


def render_app(event: AppEventEnvelope) -> Rendered:
    p = event.payload
    who = f"{p.actor} " if p.actor else ""
    attrs = "".join(f"; {k}: {v}" for k, v in sorted(p.attributes.items()))
    message = f": {p.message.strip()}" if p.message.strip() else ""
    text = f"{who}{p.action.replace('_', ' ')} in {p.app} at {_when(event)}{message}{attrs}"
    return Rendered(text, f"{p.app} {p.action}", {"app": p.app, "action": p.action, "actor": p.actor})


def render_document(event: DocumentEvent) -> Rendered:
    p = event.payload
    return Rendered(p.text, p.title, {})


def render(event: AnyEvent) -> Rendered:
    if isinstance(event, SensorEvent):
        return render_sensor(event)
    if isinstance(event, AppEventEnvelope):
        return render_app(event)
    return render_document(event)
