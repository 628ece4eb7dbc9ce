"""Stage 2, render: typed event -> text to embed plus structured, filterable properties.

Input: a validated event. Output: :class:`Rendered`. Sensor readings and app events
become one plain sentence, so a question in words ("what temperature did pump 7
report?") finds them; their fields also become properties for exact filters.
Documents keep their text unchanged. Deterministic: no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC

from schemas import AnyEvent, AppEventEnvelope, DocumentEvent, SensorEvent

Scalar = str | int | float | bool

# Spellings devices send, keyed lowercase, and how a person writes them.
UNITS: dict[str, str] = {
    "c": "°C", "degc": "°C", "deg_c": "°C", "celsius": "°C", "°c": "°C",
    "f": "°F", "degf": "°F", "deg_f": "°F", "fahrenheit": "°F", "°f": "°F",
    "k": "K", "kelvin": "K", "pct": "%", "percent": "%", "rh": "% RH", "%rh": "% RH",
    "deg": "°", "degree": "°", "degrees": "°", "ug/m3": "µg/m³", "m3/h": "m³/h", "m3": "m³",
}


@dataclass(frozen=True)
class Rendered:
    """What an event says, ready to chunk.

    Attributes:
        text: What gets chunked and embedded.
        title: A short title; "" allowed.
        properties: Structured, filterable fields, e.g. ``metric``, ``value``, ``unit``,
            ``location``, ``device_id`` for sensors and ``app``, ``action``, ``actor`` for
            app events; empty for documents.
    """

    text: str
    title: str
    properties: dict[str, Scalar]


def render(event: AnyEvent) -> Rendered:
    """Render any event; see :func:`render_sensor`, :func:`render_app`, :func:`render_document`."""
    if isinstance(event, SensorEvent):
        return render_sensor(event)
    if isinstance(event, AppEventEnvelope):
        return render_app(event)
    return render_document(event)


def render_sensor(event: SensorEvent) -> Rendered:
    """One sentence per reading, e.g.
    "Sensor pump-7 in building A reported temperature 81.2 °C at 2026-01-01 12:03 UTC (line: 2)."
    """
    p = event.payload
    unit = pretty_unit(p.unit)
    where = f" in {p.location}" if p.location else ""
    amount = f"{number(p.value)} {unit}" if unit else number(p.value)
    tags = f" ({', '.join(_fields(p.tags))})" if p.tags else ""
    text = f"Sensor {p.device_id}{where} reported {_words(p.metric)} {amount} at {when(event)}{tags}."
    props: dict[str, Scalar] = {"device_id": p.device_id, "metric": p.metric, "value": p.value,
                                "unit": unit, "location": p.location}
    return Rendered(text, f"{p.device_id} {_words(p.metric)}", props)


def describe_sensor(props: Mapping[str, Scalar]) -> str:
    """What a reading is about, without its value or time: the text its vector is made from.

    The same for every reading of one device and metric, so the model runs once per series
    (the embedding cache holds the vector) while the stored sentence keeps value and time exact.
    Made from the rendered fields (``props`` of :func:`render_sensor`, after redaction), so that
    what a device id or place gives away is never embedded.
    """
    unit = str(props["unit"] or "")
    where = f" in {props['location']}" if props["location"] else ""
    return f"Sensor {props['device_id']}{where} measures {_words(str(props['metric']))}{' in ' + unit if unit else ''}."


def render_app(event: AppEventEnvelope) -> Rendered:
    """One sentence per app event: actor, action, app, time, message, then the attributes,
    e.g. "maria refund issued in shop at 2026-03-01 12:03 UTC: Refund for order 991.; eur: 20".
    "Someone" stands in for an unknown actor.
    """
    p = event.payload
    message = f": {p.message.strip()}" if p.message.strip() else ""
    attributes = "".join(f"; {field}" for field in _fields(p.attributes))
    text = f"{p.actor or 'Someone'} {_words(p.action)} in {p.app} at {when(event)}{message}{attributes}"
    props: dict[str, Scalar] = {"app": p.app, "action": p.action, "actor": p.actor}
    return Rendered(text, f"{p.app} {_words(p.action)}", props)


def render_document(event: DocumentEvent) -> Rendered:
    """The document's own text, unchanged, under its title."""
    return Rendered(event.payload.text, event.payload.title, {})


def pretty_unit(unit: str) -> str:
    """How a person writes ``unit``: "C" and "degC" become "°C"; unknown units pass through."""
    return UNITS.get(unit.strip().lower(), unit.strip())


def number(value: float) -> str:
    """A reading as a person writes it: "81.2", "1500", no float noise like "0.30000000000000004"."""
    return f"{value:.10g}"


def when(event: AnyEvent) -> str:
    """Event time in UTC to the minute, e.g. "2026-01-01 12:03 UTC"."""
    return event.event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _words(name: str) -> str:
    # Identifiers like "order_created" or "co2-level" read better as words.
    return name.replace("_", " ").replace("-", " ")


def _fields(fields: dict[str, str] | dict[str, Scalar]) -> list[str]:
    """``"name: value"`` per field, sorted by name so the text does not depend on key order."""
    return [f"{_words(k)}: {_scalar(v)}" for k, v in sorted(fields.items())]


def _scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return number(value) if isinstance(value, float) else str(value)
