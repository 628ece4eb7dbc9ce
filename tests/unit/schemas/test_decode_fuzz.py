"""``decode`` raises nothing but InvalidEvent, for any bytes and any JSON (Hypothesis)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import InvalidEvent, decode

pytestmark = pytest.mark.unit

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)
ENVELOPE_KEYS = st.sampled_from(["kind", "event_id", "source", "tenant", "event_time", "schema_version",
                                 "payload", "device_id", "metric", "value", "doc_id", "text", "app", "action"])
# Objects shaped like events (known keys, any values) reach deeper into validation than random JSON.
EVENTISH = st.recursive(SCALARS | st.sampled_from(["sensor", "app", "document", "2026-01-01T00:00:00Z"]),
                        lambda inner: st.dictionaries(ENVELOPE_KEYS, inner, max_size=8), max_leaves=40)


def _decodes_or_says_why(value: bytes) -> None:
    try:
        decode(value)
    except InvalidEvent as exc:
        assert exc.reason and "\n" not in exc.reason and exc.errors


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_any_bytes(value: bytes) -> None:
    _decodes_or_says_why(value)


@settings(max_examples=300, deadline=None)
@given(JSON | EVENTISH)
def test_any_json(obj: Any) -> None:
    _decodes_or_says_why(json.dumps(obj, allow_nan=True).encode())


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=300_000), st.sampled_from(["[", "{\"a\":", "-", "1"]))
def test_deep_or_long_prefixes(n: int, unit: str) -> None:
    _decodes_or_says_why((unit * n).encode())
