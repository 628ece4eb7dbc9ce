"""``headwater schemas export``: the event JSON Schemas, one file per input topic."""

from __future__ import annotations

import json
from pathlib import Path

import click

from schemas import json_schemas
from streams.settings import Settings, TopicSettings


def export(topics: TopicSettings, out: str | Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, schema in json_schemas().items():
        path = out / f"{topics.for_kind(kind)}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


@click.group()
def schemas() -> None:
    """Event schemas."""


@schemas.command("export")
@click.option("--out", default="schemas/jsonschema", show_default=True, type=click.Path())
def schemas_export(out: str) -> None:
    """Write one JSON Schema per topic, for non-Python producers and Kafka Connect."""
    for path in export(Settings().topics, out):
        click.echo(path)
