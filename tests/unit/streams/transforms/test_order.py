"""The ordering rules hold for any batching: folding change by change gives one answer."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.chunk import DocState
from streams.transforms.order import DocChange, resolve

pytestmark = pytest.mark.unit

upserts_and_deletes = st.builds(DocChange, version=st.integers(0, 5), deleted=st.booleans(),
                                content_hash=st.sampled_from(["a", "b", "c"]))
tombstones = st.just(DocChange(None, True))
changes = st.lists(st.one_of(upserts_and_deletes, tombstones), max_size=12)


def sequential(changes: list[DocChange]) -> DocState | None:
    """The rules, stated plainly, one event at a time."""
    state: DocState | None = None
    for c in changes:
        if c.version is None:
            state = DocState(state.version if state else 0, deleted=True)
        elif state is None or c.version >= state.version:
            state = DocState(c.version, deleted=True) if c.deleted else DocState(c.version, content_hash=c.content_hash)
    return state


@given(changes, st.integers(0, 12))
def test_any_split_into_batches_gives_the_same_state(log: list[DocChange], cut: int) -> None:
    first = resolve(None, log[:cut]).state
    assert resolve(first, log[cut:]).state == sequential(log) == resolve(None, log).state


def test_equal_versions_the_later_wins_and_a_lower_version_loses() -> None:
    assert resolve(None, [DocChange(1, False, "a"), DocChange(1, False, "b")]).state == DocState(1, content_hash="b")
    assert resolve(DocState(3, content_hash="x"), [DocChange(2, True)]).winner is None
