"""Stage 3, chunk: rendered text -> token-bounded chunks with character offsets into it.

Input: one text (a document body or a rendered event sentence) and the embedding
model's token counter. Output: :class:`Chunk` s in text order, each exactly
``text[start:end]``, none over ``max_tokens`` by that counter.

Chunks respect section boundaries (never span two sections) and sentence
boundaries: a sentence is cut only when it alone is over the limit, by words, and
a single word over the limit by characters. Consecutive chunks of one section
share up to ``overlap_tokens`` of whole trailing sentences.

Section markers: markdown ``# Heading`` lines and the wiki100 dump's
``*: Heading - body`` lines (``**:``, ``***:`` ... for subsections). A marker
stays in its section's text, so the heading is embedded with its body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

TokenCounter = Callable[[str], int]

SECTION_MARK = re.compile(
    r"^(?:\*{1,6}: (?P<wiki>[^\n]{1,200}?) -(?= |$)|#{1,6}[ \t]+(?P<md>[^\n]*?\S)(?:[ \t]+#+)?[ \t]*$)",
    re.MULTILINE)
# Where one sentence ends and the next begins: whitespace after terminal punctuation
# (optionally closed by a quote or bracket), any line break, or the wiki dump's glued
# "end.Next" where a paragraph break was lost.
BOUNDARY = re.compile(
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s+|\s*\n\s*|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
WORD = re.compile(r"\S+")
WHOLE_CHARS_PER_TOKEN = 6


@dataclass(frozen=True)
class Chunk:
    """One piece of a text to embed.

    Attributes:
        index: Position among the text's chunks, from 0, consecutive.
        text: Exactly ``source_text[start:end]``; never starts or ends with whitespace.
        start: Character offset of the first character in the source text.
        end: Character offset one past the last character.
        section: The nearest section heading above the chunk, "" before the first one.
    """

    index: int
    text: str
    start: int
    end: int
    section: str


@dataclass(frozen=True)
class _Unit:
    """A sentence, or a piece of an over-long one: the smallest thing packed into a chunk."""

    start: int
    end: int
    tokens: int


def chunk_text(text: str, count_tokens: TokenCounter, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split ``text`` into token-bounded chunks that respect sections and sentences.

    ``count_tokens`` is called once for a section that fits one chunk, else about once
    per sentence and once per chunk, never on a long section as a whole, so cost grows
    linearly with the text.

    Args:
        text: The text to split.
        count_tokens: Token count of a string, as the embedding model counts it.
        max_tokens: Upper bound on ``count_tokens(chunk.text)`` for every chunk (>= 1).
        overlap_tokens: Tokens of whole trailing sentences a chunk repeats from the
            previous chunk of its section; 0 for none.

    Returns:
        The chunks in text order; ``[]`` for an empty or blank text.

    Raises:
        ValueError: ``max_tokens`` is below 1.

    Example:
        >>> [c.text for c in chunk_text("One two. Three four.", lambda s: len(s.split()), 2, 0)]
        ['One two.', 'Three four.']
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    out: list[Chunk] = []
    for heading, start, end in sections(text):
        if (whole := _whole(text, start, end, count_tokens, max_tokens)) is not None:
            out.append(Chunk(len(out), text[whole[0]:whole[1]], *whole, heading))
            continue
        units = _units(text, start, end, count_tokens, max_tokens)
        for s, e in _pack(text, units, count_tokens, max_tokens, max(0, overlap_tokens)):
            out.append(Chunk(len(out), text[s:e], s, e, heading))
    return out


def _whole(text: str, start: int, end: int, count: TokenCounter, max_tokens: int) -> tuple[int, int] | None:
    """The trimmed span of a section that fits one chunk, with one count instead of one a sentence.

    Most app events and short documents are one such section. Only sections short enough to
    possibly fit are counted whole (English averages 4 to 5 characters a token), so a long
    section costs no extra count.
    """
    span = _trimmed(text, start, end)
    if span is None or span[1] - span[0] > WHOLE_CHARS_PER_TOKEN * max_tokens:
        return None
    return span if count(text[span[0]:span[1]]) <= max_tokens else None


def sections(text: str) -> list[tuple[str, int, int]]:
    """Split ``text`` at section markers into ``(heading, start, end)`` spans, in order.

    The spans cover every non-blank part of the text. A heading with no body of its
    own (a wiki "*: History - " directly followed by "**: Prehistory - ...") joins
    the section after it, so it is embedded as context instead of as a chunk alone.
    """
    marks = [(m.start(), m.end(), (m.group("wiki") or m.group("md")).strip())
             for m in SECTION_MARK.finditer(text)]
    if not marks:
        return [("", 0, len(text))] if text.strip() else []
    out = [("", 0, marks[0][0])] if text[:marks[0][0]].strip() else []
    ends = [mark for mark, _, _ in marks[1:]] + [len(text)]
    run_start: int | None = None
    for (mark, body, heading), end in zip(marks, ends, strict=True):
        run_start = mark if run_start is None else run_start
        if text[body:end].strip() or end == len(text):
            out.append((heading, run_start, end))
            run_start = None
    return out


def _units(text: str, start: int, end: int, count: TokenCounter, max_tokens: int) -> list[_Unit]:
    """Sentences of ``text[start:end]`` with their token counts; over-long ones cut into pieces."""
    out: list[_Unit] = []
    for s, e in _sentences(text, start, end):
        n = count(text[s:e])
        out.extend([_Unit(s, e, n)] if n <= max_tokens else _split_long(text, s, e, count, max_tokens))
    return out


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for m in BOUNDARY.finditer(text, start, end):
        if (span := _trimmed(text, pos, m.start())) is not None:
            yield span
        pos = m.end()
    if (span := _trimmed(text, pos, end)) is not None:
        yield span


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _split_long(text: str, start: int, end: int, count: TokenCounter, max_tokens: int) -> Iterator[_Unit]:
    """Cut one over-long sentence into the longest word runs that fit; a word that alone
    does not fit is cut by characters."""
    words = [(m.start(), m.end()) for m in WORD.finditer(text, start, end)]
    i = 0
    while i < len(words):
        first, first_end = words[i]
        if count(text[first:first_end]) > max_tokens:
            yield from _split_chars(text, first, first_end, count, max_tokens)
            i += 1
            continue
        n = _longest_fit(text, first, [e for _, e in words[i:]], count, max_tokens)
        last = words[i + n - 1][1]
        yield _Unit(first, last, count(text[first:last]))
        i += n


def _split_chars(text: str, start: int, end: int, count: TokenCounter, max_tokens: int) -> Iterator[_Unit]:
    pos = start
    while pos < end:
        n = _longest_fit(text, pos, range(pos + 1, end + 1), count, max_tokens)
        yield _Unit(pos, pos + n, count(text[pos:pos + n]))
        pos += n


def _longest_fit(text: str, start: int, ends: Sequence[int], count: TokenCounter, max_tokens: int) -> int:
    """How many of the candidate ``ends`` (ascending) to take so that ``text[start:end]`` fits.

    Gallops then bisects, assuming the count grows with the end, so a piece of L
    candidates costs O(log L) counts. At least 1: a single character is the smallest cut.
    """

    def fits(n: int) -> bool:
        return count(text[start:ends[n - 1]]) <= max_tokens

    good, step, bad = 1, 1, len(ends) + 1
    while good + step < bad and fits(good + step):
        good, step = good + step, step * 2
    bad = min(bad, good + step)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if fits(mid) else (good, mid)
    return good


def _pack(text: str, units: list[_Unit], count: TokenCounter, max_tokens: int,
          overlap_tokens: int) -> Iterator[tuple[int, int]]:
    """Greedily pack consecutive units into ``(start, end)`` spans within the limit."""
    if not units:
        return
    i, j = 0, _fill(text, units, 0, count, max_tokens)
    while True:
        yield units[i].start, units[j - 1].end
        if j == len(units):
            return
        k = _overlap_start(units, i, j, min(overlap_tokens, max_tokens - units[j].tokens))
        after = _fill(text, units, k, count, max_tokens)
        # The overlap must leave room for at least one new unit, or chunks would repeat.
        i, j = (k, after) if after > j else (j, _fill(text, units, j, count, max_tokens))


def _fill(text: str, units: list[_Unit], i: int, count: TokenCounter, max_tokens: int) -> int:
    """End (exclusive) of the longest run of units from ``i`` whose joined text fits."""
    j, total = i + 1, units[i].tokens
    while j < len(units) and total + units[j].tokens <= max_tokens:
        total += units[j].tokens
        j += 1
    # Joining can add tokens at the seams (separators, merged word pieces): check the real count.
    while j > i + 1 and count(text[units[i].start:units[j - 1].end]) > max_tokens:
        j -= 1
    return j


def _overlap_start(units: list[_Unit], i: int, j: int, budget: int) -> int:
    """First unit of the trailing run of ``units[i:j]`` (never all of it) within ``budget`` tokens."""
    k, used = j, 0
    while k - 1 > i and used + units[k - 1].tokens <= budget:
        k -= 1
        used += units[k].tokens
    return k


def tokenizer_counter(tokenizer: Any) -> TokenCounter:
    """A token counter from a Hugging Face tokenizer, without special tokens.

    The model adds its special tokens (``[CLS]``, ``[SEP]``) at embedding time, so
    callers budget for them: ``max_tokens = max_seq_length - 2``.

    Args:
        tokenizer: A ``transformers`` tokenizer (anything with ``encode``).

    Returns:
        ``count(text) -> int``; it caches nothing.
    """

    def count(text: str) -> int:
        # verbose=False: sentences longer than the model's limit are expected here, being cut.
        return len(tokenizer.encode(text, add_special_tokens=False, verbose=False))

    return count
