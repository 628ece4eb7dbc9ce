"""App events, and sensor readings stored as objects of their own: render -> chunk -> enrich -> curate."""

from __future__ import annotations

from dataclasses import replace

from schemas import AppEventEnvelope, SensorEvent
from streams.plan.base import Plan, curate, noted, redacted
from streams.plan.sensors import add_state_only, track_state
from streams.transforms.chunk import Chunk, chunk_text
from streams.transforms.enrich import enrich
from streams.transforms.render import describe_sensor, render
from streams.transforms.validate import Item


def add_event(plan: Plan, item: Item, event: SensorEvent | AppEventEnvelope, skew: float) -> None:
    c = plan.chunking
    if c.curation is not None and isinstance(event, SensorEvent) and not c.curation.sensor_readings:
        add_state_only(plan, item, event, skew)
        return
    rendered = redacted(plan, event, render(event))
    if isinstance(event, SensorEvent):
        # A reading is one sentence, and its vector comes from a short description: nothing to cut,
        # and counting its tokens is most of what planning a reading would cost.
        text = rendered.text.strip()
        chunks = [Chunk(0, text, 0, len(text), "")]
    else:
        chunks = chunk_text(rendered.text, c.count_tokens, c.max_tokens, c.overlap_tokens)
    records = noted(enrich(event, rendered, chunks, item.position), skew)
    if isinstance(event, SensorEvent):
        # The vector comes from what the reading is about; the stored sentence keeps value and time.
        records = [replace(r, text=describe_sensor(rendered.properties)) for r in records]
    if c.curation is not None:
        records, drops = curate(c.curation, event, records)
        plan.dropped += drops
        if isinstance(event, SensorEvent) and c.curation.sensor_state and records:
            track_state(plan, item, event, c.curation.series(event), skew)
    for rec in records:
        plan.origin[rec.uuid] = item
    plan.records.extend(records)


