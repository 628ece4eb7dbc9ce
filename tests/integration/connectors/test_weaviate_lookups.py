"""Lookups before the first write: a collection or tenant that does not exist yet answers "nothing"."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.weaviate import query, target
from schemas.chunk import ChunkRecord

pytestmark = pytest.mark.integration


def test_lookups_on_a_missing_collection_or_tenant_are_empty_and_see_a_first_write(
        weaviate_client: Any, unique: str) -> None:
    name = f"Lookups{unique.replace('-', '')}"
    for where in (name, "NoSuchCollection" + unique.replace("-", "")):
        assert query.find_by_fingerprint(weaviate_client, where, "t1", ["h"], ["b"]) == []
        assert query.ledgers(weaviate_client, where, "t1", ["d"]) == {}
        assert query.event_times(weaviate_client, where, "t1", ["00000000-0000-0000-0000-000000000001"]) == {}
        assert query.document(weaviate_client, where, "t1", "d", ["text"]) == []
    target.ensure_collection(weaviate_client, name)
    try:
        assert query.find_by_fingerprint(weaviate_client, name, "t1", ["h"], ["b"]) == []  # no tenant yet
        rec = ChunkRecord("00000000-0000-0000-0000-000000000001", "t1", "x",
                          {"text": "x", "doc_id": "d", "content_hash": "h", "lsh_bands": ["b"], "body": ""})
        assert target.write(weaviate_client, name, [rec], [[0.1] * 384]) == []
        found = query.find_by_fingerprint(weaviate_client, name, "t1", ["h"], [])
        assert [f["uuid"] for f in found] == [rec.uuid]
        assert [d["uuid"] for d in query.document(weaviate_client, name, "t1", "d", ["text"])] == [rec.uuid]
    finally:
        weaviate_client.collections.delete(name)  # type: ignore[attr-defined]
