"""The committed JSON Schemas match the pydantic models (run `headwater schemas export` after a change)."""

import json
from pathlib import Path

import pytest

from streams.cli.schemas import export
from streams.settings import TopicSettings

pytestmark = pytest.mark.unit

COMMITTED = Path(__file__).parents[4] / "schemas" / "jsonschema"


def test_committed_json_schemas_are_current(tmp_path: Path) -> None:
    fresh = export(TopicSettings(), tmp_path)
    assert fresh, "no schema exported"
    for path in fresh:
        committed = COMMITTED / path.name
        assert committed.exists(), f"{committed} missing: run `headwater schemas export`"
        assert json.loads(committed.read_text()) == json.loads(path.read_text()), \
            f"{committed.name} is stale: run `headwater schemas export` and commit it"


def test_schema_names_the_required_envelope_fields() -> None:
    schema = json.loads((COMMITTED / "headwater.sensor.v1.json").read_text())
    assert {"event_id", "source", "event_time", "payload"} <= set(schema["required"])
