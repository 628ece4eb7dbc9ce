"""Weaviate target and lookups on the real service: first writes, lookups before them, split requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.weaviate import query, target
from schemas.chunk import ChunkRecord

pytestmark = pytest.mark.integration


@pytest.fixture
def name(weaviate_client: Any, unique: str) -> Iterator[str]:
    """A collection name of this test's own; the collection is dropped afterwards, if it was made."""
    name = f"T{unique.replace('-', '')}"
    yield name
    if weaviate_client.collections.exists(name):
        weaviate_client.collections.delete(name)


def test_lookups_on_a_missing_collection_or_tenant_are_empty_and_see_a_first_write(
        weaviate_client: Any, name: str, unique: str) -> None:
    for where in (name, "NoSuchCollection" + unique.replace("-", "")):
        assert query.find_by_fingerprint(weaviate_client, where, "t1", ["h"], ["b"]) == []
        assert query.ledgers(weaviate_client, where, "t1", ["d"]) == {}
        assert query.event_times(weaviate_client, where, "t1", ["00000000-0000-0000-0000-000000000001"]) == {}
        assert query.document(weaviate_client, where, "t1", "d", ["text"]) == []
    target.ensure_collection(weaviate_client, name)
    assert query.find_by_fingerprint(weaviate_client, name, "t1", ["h"], ["b"]) == []  # no tenant yet
    rec = ChunkRecord("00000000-0000-0000-0000-000000000001", "t1", "x",
                      {"text": "x", "doc_id": "d", "content_hash": "h", "lsh_bands": ["b"], "body": ""})
    assert target.write(weaviate_client, name, [rec], [[0.1] * 384]) == []
    found = query.find_by_fingerprint(weaviate_client, name, "t1", ["h"], [])
    assert [f["uuid"] for f in found] == [rec.uuid]
    assert [d["uuid"] for d in query.document(weaviate_client, name, "t1", "d", ["text"])] == [rec.uuid]


def test_a_write_in_many_requests_stores_each_object_once_as_last_given_and_names_the_refused(
        weaviate_client: Any, name: str) -> None:
    import uuid as uuidlib

    target.ensure_collection(weaviate_client, name)
    recs, vecs = [], []
    for i in range(700):
        tenant = "t1" if i % 2 else "t2"
        u = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"{tenant}/{i % 650}"))  # 50 ids come twice
        recs.append(ChunkRecord(u, tenant, "x", {"text": f"version {i}", "chunk_index": i}))
        vecs.append([0.1] * 384)
    # Weaviate's refusal names the uuid; this one holds "502", once taken for a gateway error (and retried forever).
    bad = ChunkRecord("071a8502-afdb-40e3-815b-380dcc245621", "t1", "x", {"text": "bad", "chunk_index": -1})
    failures = target.write(weaviate_client, name, [*recs, bad], [*vecs, [0.1] * 3], batch_max=100)
    assert [f.uuid for f in failures] == [bad.uuid]
    stored = {(t, o["uuid"]): o["chunk_index"] for t in ("t1", "t2")
              for o in query.objects(weaviate_client, name, t, ["chunk_index"])}
    want = {(r.tenant, r.uuid): r.properties["chunk_index"] for r in recs}  # a dict keeps the last
    assert stored == want and len(stored) == 650


def test_the_collection_indexes_what_search_and_filters_read_and_nothing_else(
        weaviate_client: Any, name: str) -> None:
    from weaviate.classes.query import Filter

    from schemas.chunk import PROPERTIES

    target.ensure_collection(weaviate_client, name)
    col = weaviate_client.collections.use(name)
    config = {p.name: p for p in col.config.get().properties}
    assert set(config) == set(PROPERTIES)
    for key, prop in PROPERTIES.items():
        assert config[key].index_filterable is prop.filter, key
        if prop.type.startswith("text"):
            assert config[key].index_searchable is prop.search, key
    assert {k for k, p in PROPERTIES.items() if p.search} == {"text", "title"}  # search's query_properties
    rec = ChunkRecord("00000000-0000-0000-0000-000000000002", "t1", "x",
                      {"text": "The boiler in hall 3 reads 81 C.", "title": "Boiler", "record_type": "state",
                       "kind": "sensor", "kafka_offset": 7})
    assert target.write(weaviate_client, name, [rec], [[0.1] * 384]) == []
    tenant = col.with_tenant("t1")
    assert [str(o.uuid) for o in tenant.query.bm25("boiler hall", query_properties=["text", "title^2"]).objects] \
        == [rec.uuid]
    where = Filter.by_property("record_type").equal("state") & Filter.by_property("kind").equal("sensor")
    assert [str(o.uuid) for o in tenant.query.fetch_objects(filters=where).objects] == [rec.uuid]
    assert tenant.query.fetch_objects().objects[0].properties["kafka_offset"] == 7  # stored, only not indexed
