"""Reranking: identifiers a question names, twins newest first, a sensor's current state before its history."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.retrieve.rank import current_first, exact_first, identifiers, newest_twins_first, readings_series

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("question", "names"), [
    ("Why was ticket 54660 escalated?", ["54660"]),
    ("What temperature did pump-523 in building A report in 2019?", ["523", "2019"]),
    ("Which A380 landed at gate B12 on runway 7?", ["a380", "b12"]),  # "7" and "12"-like: too common
    ("What are the top 3 causes of churn?", []),
    ("Ticket 54660, ticket 54660!", ["54660"]),
    ("order_7781 failed", ["7781"]),  # Weaviate's word tokenizer splits on "_" too
])
def test_identifiers_are_the_terms_with_a_digit_and_three_characters(question: str, names: list[str]) -> None:
    assert identifiers(question) == names


words = st.sampled_from(["ticket", "54660", "12345", "refund", "a380", "escalated"])
candidates = st.lists(st.tuples(st.integers(0, 15).map(str), st.lists(words, max_size=6).map(" ".join),
                                st.floats(0, 1)), max_size=30)


@given(candidates, st.lists(st.sampled_from(["54660", "12345", "a380"]), max_size=3, unique=True))
def test_more_identifiers_held_always_rank_higher_and_each_object_comes_once(
        found: list[tuple[str, str, float]], names: list[str]) -> None:
    ranked = exact_first([(u, {"text": t, "u": u}, s) for u, t, s in found], names)
    first = {}
    for u, t, s in found:
        first.setdefault(u, (t, s))
    assert sorted(p["u"] for p, _ in ranked) == sorted(first)
    held = [sum(n in p["text"].split() for n in names) for p, _ in ranked]
    assert held == sorted(held, reverse=True)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    if not names:
        assert [(p["u"], s) for p, s in ranked] == sorted(((u, s) for u, (_, s) in first.items()),
                                                           key=lambda x: -x[1])


def _reading(device: str, value: int) -> dict[str, Any]:
    return {"kind": "sensor", "record_type": "chunk", "device_id": device, "metric": "temp", "text": f"{value}"}


def _state(device: str, value: int) -> dict[str, Any]:
    return {**_reading(device, value), "record_type": "state"}


def test_a_series_state_comes_just_before_its_first_reading_at_its_score() -> None:
    ticket = {"kind": "app", "text": "t"}
    hits = [(ticket, 0.9), (_reading("p1", 1), 0.8), (_reading("p2", 5), 0.7), (_reading("p1", 2), 0.6)]
    assert readings_series(hits) == [("p1", "temp"), ("p2", "temp")]
    out = current_first(hits, [_state("p1", 3)])
    assert [(p["text"], p["record_type"] if "record_type" in p else "", s) for p, s in out] == [
        ("t", "", 0.9), ("3", "state", 0.8), ("1", "chunk", 0.8), ("5", "chunk", 0.7), ("2", "chunk", 0.6)]


def test_a_state_already_above_its_readings_stays_and_is_not_repeated() -> None:
    state = _state("p1", 3)
    hits = [(state, 0.9), (_reading("p1", 1), 0.8)]
    assert current_first(hits, [state]) == hits
    late = [(_reading("p1", 1), 0.8), (state, 0.5)]
    assert current_first(late, [state]) == [(state, 0.8), (_reading("p1", 1), 0.8)]


def _event(app: str, text: str, hour: int) -> dict[str, Any]:
    from datetime import UTC, datetime

    return {"kind": "app", "entity_id": app, "text": text, "event_time": datetime(2026, 3, 1, hour, tzinfo=UTC)}


def test_twins_are_put_newest_first_in_their_own_places_and_nothing_else_moves() -> None:
    old, new = (_event("vault", f"The access code of vault 7 was changed to {c} by the night shift.", h)
                for c, h in ((4471, 1), (9902, 2)))
    other_vault = _event("vault", "The access code of vault 3 was changed to 5555 by the night shift.", 3)
    other_app = _event("doors", "The access code of vault 7 was changed to 1212 by the night shift.", 4)
    unlike = _event("vault", "Vault 7 was cleaned.", 5)
    hits = [(old, 0.9), (other_vault, 0.8), (unlike, 0.7), (other_app, 0.6), (new, 0.5)]
    out = newest_twins_first(hits, "What is the access code of vault 7?")
    # vault 3 lacks the question's "7", the doors app is another entity, "cleaned" is not a twin
    assert out == [(new, 0.9), (other_vault, 0.8), (unlike, 0.7), (other_app, 0.6), (old, 0.5)]


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(1000, 1003), st.integers(0, 23)),
                max_size=12))
def test_reordering_twins_keeps_every_hit_and_every_score_in_place(events: list[tuple[str, int, int]]) -> None:
    hits = [(_event(app, f"The access code of vault 7 was changed to {code}.", h), 1.0 - i / 100)
            for i, (app, code, h) in enumerate(events)]
    out = newest_twins_first(hits, "access code of vault 7")
    assert [s for _, s in out] == [s for _, s in hits]
    assert sorted(id(p) for p, _ in out) == sorted(id(p) for p, _ in hits)
    for app in ("a", "b"):  # every event of one app is a twin of the others here: newest first
        times = [p["event_time"] for p, _ in out if p["entity_id"] == app]
        assert times == sorted(times, reverse=True)


def test_document_chunks_are_never_twins() -> None:
    old, new = ({**_event("handbook", "The access code of vault 7 is 4471.", h), "kind": "document"} for h in (1, 2))
    hits = [(old, 0.9), (new, 0.8)]
    assert newest_twins_first(hits, "access code of vault 7") == hits
