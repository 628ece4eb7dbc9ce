"""Which Weaviate errors are retried (they pass by themselves) and which are dead-lettered (the data causes them)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.weaviate.target import transient

pytestmark = pytest.mark.unit


@given(st.uuids())
def test_a_refusal_naming_an_object_is_never_mistaken_for_an_outage(u: uuid.UUID) -> None:
    # Weaviate names the object in its refusals; a uuid such as 071a8502-... holds "502".
    assert not transient(f"Validate vector index default for target vector {u}: new node has a vector with "
                         "length 3. Existing nodes have vectors with length 384: vector dimensions do not match")
    assert not transient(f"id '{u}': invalid text property 'name' on class 'Chunk': not a string")


@pytest.mark.parametrize("reason", [
    "<_InactiveRpcError: StatusCode.UNAVAILABLE, failed to connect to all addresses>",
    "Deadline Exceeded", "Query call with protocol GRPC batch failed with message timed out",
    "unexpected status code: 503, with response body: None", "HTTP 502 Bad Gateway", "status=504",
    "too many requests", "the node is not ready", "shutting down"])
def test_outages_are_retried(reason: str) -> None:
    assert transient(reason)
