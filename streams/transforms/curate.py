"""Stage curate: redact PII, judge quality, fingerprint content for deduplication.

Pure functions: text in, text or verdicts out; no I/O, no clock. The worker applies
them between render and chunk (redaction, quality) and before upsert (dedup, with
the fingerprints computed here and looked up in Weaviate).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# Order matters: IBAN and card numbers before phone numbers, which would match their digits.
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?![\w])")
IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b"
                  r"|\b(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:?){1,6}\b")


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    s = candidate.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _sub(pattern: re.Pattern[str], label: str, text: str, counts: Counter[str],
         check: Callable[[str], bool] = lambda _: True) -> str:
    def repl(m: re.Match[str]) -> str:
        if not check(m.group()):
            return m.group()
        counts[label] += 1
        return f"[{label}]"

    return pattern.sub(repl, text)


def _card_ok(s: str) -> bool:
    digits = re.sub(r"\D", "", s)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


def _phone_ok(s: str) -> bool:
    if DATE_LIKE.search(s):
        return False
    digits = re.sub(r"\D", "", s)
    # Years, dates and plain counts are not phone numbers; a phone has 8+ digits and a separator or +.
    return 8 <= len(digits) <= 15 and (s.startswith("+") or bool(re.search(r"[ .()-]", s)))


def redact(text: str, extra: Iterable[tuple[str, re.Pattern[str]]] = ()) -> tuple[str, Counter[str]]:
    """Replace personal data with readable labels ("[EMAIL]"); returns the text and counts by label."""
    counts: Counter[str] = Counter()
    text = _sub(EMAIL, "EMAIL", text, counts)
    text = _sub(IBAN, "IBAN", text, counts, iban_ok)
    text = _sub(CARD, "CARD", text, counts, _card_ok)
    text = _sub(IPV6, "IP", text, counts)
    text = _sub(IPV4, "IP", text, counts)
    text = _sub(PHONE, "PHONE", text, counts, _phone_ok)
    for label, pattern in extra:
        text = _sub(pattern, label, text, counts)
    return text, counts


def redact_spans(text: str, spans: Iterable[tuple[int, int, str]]) -> tuple[str, Counter[str]]:
    """Replace ``(start, end, label)`` spans found by a recognizer with "[LABEL]".

    Overlapping spans are merged into the first (longest at equal start), so the
    output never contains half of a detected value.
    """
    counts: Counter[str] = Counter()
    out, pos = [], 0
    for start, end, label in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < pos or end <= start:
            continue
        out += [text[pos:start], f"[{label}]"]
        counts[label] += 1
        pos = end
    return "".join(out) + text[pos:], counts


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


WORDS = re.compile(r"\w+", re.UNICODE)


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


def normalize(text: str) -> str:
    return " ".join(WORDS.findall(text.lower()))


def content_key(text: str) -> str:
    """Exact-duplicate key: equal for texts that differ only in case, spacing and punctuation."""
    return hashlib.sha256(normalize(text).encode()).hexdigest()


def shingles(text: str, k: int = 5) -> set[bytes]:
    norm = normalize(text)
    if len(norm) <= k:
        return {norm.encode()}
    return {norm[i:i + k].encode() for i in range(len(norm) - k + 1)}


def jaccard(a: str, b: str, k: int = 5) -> float:
    sa, sb = shingles(a, k), shingles(b, k)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def lsh_bands(text: str, bands: int = 16, rows: int = 4, k: int = 5) -> list[str]:
    """MinHash (datasketch) of the text's character shingles, cut into LSH band keys.

    Two texts share at least one band key with probability 1 - (1 - J^rows)^bands,
    about 0.99 at Jaccard 0.7 and 0.05 at 0.3 with the defaults.
    """
    from datasketch import MinHash

    mh = MinHash(num_perm=bands * rows, seed=1)
    mh.update_batch(list(shingles(text, k)))
    hv = mh.hashvalues
    return [f"{b}:{hashlib.blake2b(hv[b * rows:(b + 1) * rows].tobytes(), digest_size=8).hexdigest()}"
            for b in range(bands)]
