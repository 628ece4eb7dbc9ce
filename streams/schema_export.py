"""Write the event JSON Schemas, one file per input topic."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import json_schemas
from streams.settings import TopicSettings


def export(topics: TopicSettings, out: str | Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    by_kind = {"sensor": topics.sensor, "app": topics.app, "document": topics.document}
    paths = []
    for kind, schema in json_schemas().items():
        path = out / f"{by_kind[kind]}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths
