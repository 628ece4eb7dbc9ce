"""Curate, quality: is a text too trivial, unfit or toxic to index? Pure: text in, a reason or None out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from streams.transforms.fingerprint import WORDS

BLOCKED_WORDS = ("fuck", "shit", "cunt", "nigger", "porn", "xxx")
# Toxic phrasing that single blocked words miss: threats, self-harm incitement, direct insults.
TOXIC_PATTERNS = (
    r"\b(kill|hang|shoot|stab)\s+(yo)?urself\b", r"\bkys\b", r"\bgo\s+die\b",
    r"\bi(\s+wi|')ll\s+(kill|hurt|find)\s+you\b",
    r"\byou(\s+are|'re|\s+r)\s+(an?\s+)?(worthless|pathetic|stupid|idiot|moron|retard)\w*\b",
)


@dataclass(frozen=True)
class QualityRules:
    """When a text is too trivial to index. Configurable per source."""

    min_chars: int = 12
    min_words: int = 3
    max_symbol_ratio: float = 0.5       # non-alphanumeric, non-space characters / all characters
    min_unique_word_ratio: float = 0.25  # catches "spam spam spam spam ..."
    boilerplate: tuple[str, ...] = (
        r"^\s*(click here|read more|subscribe( now)?|all rights reserved|accept (all )?cookies)\b",
        r"^\s*(lorem ipsum)", r"^\s*(test|asdf|foo|bar|n/?a|null|none|-+)\s*$")
    blocked_words: tuple[str, ...] = BLOCKED_WORDS
    toxic_patterns: tuple[str, ...] = TOXIC_PATTERNS
    languages: tuple[str, ...] = ()      # allowed ISO codes; empty = any
    extra: dict[str, str] = field(default_factory=dict)


def quality_issue(text: str, rules: QualityRules, language: str = "und") -> str | None:
    """The first reason the text is trivial or unfit ("trivial:too_short", "nsfw:blocked_word"), or None."""
    stripped = text.strip()
    words = WORDS.findall(stripped.lower())
    if len(stripped) < rules.min_chars or len(words) < rules.min_words:
        return "trivial:too_short"
    symbols = sum(1 for c in stripped if not (c.isalnum() or c.isspace()))
    if symbols / len(stripped) > rules.max_symbol_ratio:
        return "trivial:symbols"
    if len(words) >= 8 and len(set(words)) / len(words) < rules.min_unique_word_ratio:
        return "trivial:repetitive"
    if any(re.search(p, stripped, re.IGNORECASE) for p in rules.boilerplate):
        return "trivial:boilerplate"
    if rules.blocked_words and set(words) & set(rules.blocked_words):
        return "nsfw:blocked_word"
    if any(re.search(p, stripped, re.IGNORECASE) for p in rules.toxic_patterns):
        return "toxic:pattern"
    if rules.languages and language not in rules.languages:
        return "trivial:language"
    return None
