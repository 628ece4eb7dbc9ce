"""Stage 3, chunk: text -> token-bounded chunks with character offsets into the source.

Token-aware: ``count_tokens`` is the embedding model's own tokenizer, and no chunk
exceeds ``max_tokens`` by it. Chunks respect section boundaries (never span two
sections) and sentence boundaries (a sentence is cut only when it alone is too
long: by words, and a giant word by characters). Consecutive chunks of a section
share up to ``overlap_tokens`` of whole trailing sentences. Every chunk's text is
exactly ``text[start:end]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# wiki100 marks sections as "*: Heading - text"; markdown as "# Heading".
WIKI_SECTION = re.compile(r"^\*: (?P<head>[^\n]{1,120}?) - ", re.MULTILINE)
MD_HEADING = re.compile(r"^#{1,6} +(?P<head>[^\n]+)$", re.MULTILINE)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*")
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start: int
    end: int
    section: str


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    tokens: int


def sections(text: str) -> list[tuple[str, int, int]]:
    """(heading, start, end) spans covering the text; the body after a wiki marker."""
    marks = sorted([(m.start(), m.end(), m.group("head").strip()) for m in WIKI_SECTION.finditer(text)]
                   + [(m.start(), m.end(), m.group("head").strip()) for m in MD_HEADING.finditer(text)])
    if not marks:
        return [("", 0, len(text))]
    out = [("", 0, marks[0][0])] if marks[0][0] > 0 else []
    for i, (_, body, head) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(text)
        out.append((head, body, end))
    return out


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for m in SENTENCE_END.finditer(text, start, end):
        if (span := _trimmed(text, pos, m.start())) is not None:
            yield span
        pos = m.end()
    if (span := _trimmed(text, pos, end)) is not None:
        yield span


def _split_long(text: str, start: int, end: int, count: Callable[[str], int], max_tokens: int) -> Iterator[_Span]:
    """A sentence over the limit: greedy by words; a word over the limit: by characters."""
    cur: _Span | None = None
    for m in WORD.finditer(text, start, end):
        n = count(m.group())
        if n > max_tokens:
            if cur:
                yield cur
                cur = None
            yield from _split_chars(text, m.start(), m.end(), count, max_tokens)
            continue
        if cur and cur.tokens + n <= max_tokens and count(text[cur.start:m.end()]) <= max_tokens:
            cur = _Span(cur.start, m.end(), cur.tokens + n)
        else:
            if cur:
                yield cur
            cur = _Span(m.start(), m.end(), n)
    if cur:
        yield cur


def _split_chars(text: str, start: int, end: int, count: Callable[[str], int], max_tokens: int) -> Iterator[_Span]:
    pos = start
    while pos < end:
        step = end - pos
        while step > 1 and count(text[pos:pos + step]) > max_tokens:
            step = max(1, step * 2 // 3)
        yield _Span(pos, pos + step, count(text[pos:pos + step]))
        pos += step


def _units(text: str, start: int, end: int, count: Callable[[str], int], max_tokens: int) -> list[_Span]:
    out: list[_Span] = []
    for s, e in sentences(text, start, end):
        n = count(text[s:e])
        out.extend([_Span(s, e, n)] if n <= max_tokens else _split_long(text, s, e, count, max_tokens))
    return out


def _pack(text: str, units: list[_Span], count: Callable[[str], int], max_tokens: int,
          overlap_tokens: int) -> Iterator[tuple[int, int]]:
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and total + units[j].tokens <= max_tokens:
            total += units[j].tokens
            j += 1
        j = max(j, i + 1)
        # Joining can add tokens at the seams; shrink until the real count fits.
        while j > i + 1 and count(text[units[i].start:units[j - 1].end]) > max_tokens:
            j -= 1
        yield units[i].start, units[j - 1].end
        if j >= len(units):
            return
        back, k = 0, j
        while k - 1 > i and back + units[k - 1].tokens <= overlap_tokens:
            k -= 1
            back += units[k].tokens
        i = k


def chunk_text(text: str, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split ``text`` into chunks; ``[]`` for blank text."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be >= 1")
    out: list[Chunk] = []
    for head, start, end in sections(text):
        units = _units(text, start, end, count_tokens, max_tokens)
        for s, e in _pack(text, units, count_tokens, max_tokens, max(0, overlap_tokens)):
            out.append(Chunk(len(out), text[s:e], s, e, head))
    return out


def tokenizer_counter(tokenizer: Any) -> Callable[[str], int]:
    """Token counter from a Hugging Face tokenizer, without special tokens."""

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    return count
