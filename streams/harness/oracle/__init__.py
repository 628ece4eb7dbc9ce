"""The independent oracle: what the index must hold after an event log, and how Weaviate differs.

Written from the public rules (README "Updates, deletes and identity", the event schemas), not
from the worker: it imports no decision of the worker (render, chunk, redact, quality, dedup,
ordering, ledger). :mod:`.model` folds the log into the entities that must be searchable;
:mod:`.compare` checks the stored objects against them entity by entity, never chunk by chunk.

    want = expected(log, readings=True, states=True)
    diff = compare(want, stored(client, collection, want.tenants))
    assert diff.clean, diff.report()

Near-duplicate decisions are out of its reach on purpose: a log for the oracle keeps its
entities' texts apart, or repeats them exactly.
"""

from streams.harness.oracle.compare import PROPS, Diff, compare, stored
from streams.harness.oracle.model import Entity, Expected, Tombstone, expected, normalized, object_id, tokens

__all__ = ["PROPS", "Diff", "Entity", "Expected", "Tombstone", "compare", "expected", "normalized", "object_id",
           "stored", "tokens"]
