"""Curate, PII: replace personal data with readable labels ("[EMAIL]") before anything is stored.

Pure functions: text in, redacted text and counts by label out; no I/O, no clock.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

# Order matters: IBAN and card numbers before phone numbers, which would match their digits.
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
# Phone numbers in the formats people write them, not any run of digit groups (years, ranges,
# measurements and ISBN parts are digit groups too): international (+CC ...), an area code in
# parentheses, North American 3-3-4, and national numbers with a trunk 0.
PHONE = re.compile(
    r"(?<![\w+/.,-])(?<!\d[ -])(?:"
    r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,5}"
    r"|\(\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{3,5}"
    r"|\d{3}([-. ])\d{3}\1\d{4}"
    r"|0\d{1,4}[ /-]\d{3,8}(?:[ -]\d{2,5}){0,3}"
    r")(?![\w-]|[.,]\d)")
IPV4 = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w]|\.\d)")
# Bibliographic and scientific identifiers: never personal data, and full of digit groups that
# look like phones and cards. They are set aside before redaction and put back after.
REFERENCE = re.compile(
    r"\bISBN(?:-1[03])?:?[ \t]*(?:[\dXx][ -]?){9,12}[\dXx]\b"
    r"|\bISSN:?[ \t]*\d{4}-?\d{3}[\dXx]\b"
    r"|\bdoi:[ \t]*\S+|\b10\.\d{4,9}/[^\s,;]+"
    r"|\barXiv:[ \t]*\S+|\b(?:OCLC|S2CID|PMID|PMC|Bibcode|JSTOR|LCCN)[ \t]*:?[ \t]*[\w.-]*\d[\w.-]*"
    r"|\b97[89](?:[ -]?\d){10}\b",
    re.IGNORECASE)
# Issuer prefixes and lengths of the card schemes in use (Visa, Mastercard, Amex, Discover, JCB,
# Diners, UnionPay): a Luhn-valid number outside them is an identifier of something else.
CARD_SCHEMES = re.compile(r"4\d{12}(?:\d{3}){0,2}|(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}"
                          r"|3[47]\d{13}|(?:6011|65\d{2}|64[4-9]\d)\d{12,15}|35\d{14,17}|3(?:0[0-5]|[68]\d)\d{11}"
                          r"|62\d{14,17}")
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
    return 13 <= len(digits) <= 19 and luhn_ok(digits) and CARD_SCHEMES.fullmatch(digits) is not None


DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


def _phone_ok(s: str) -> bool:
    if DATE_LIKE.search(s):
        return False
    digits = re.sub(r"\D", "", s)
    return 8 <= len(digits) <= 15


def redact(text: str, extra: Iterable[tuple[str, re.Pattern[str]]] = ()) -> tuple[str, Counter[str]]:
    """Replace personal data with readable labels ("[EMAIL]"); returns the text and counts by label."""
    counts: Counter[str] = Counter()
    text, references = _set_aside(text)
    text = _sub(EMAIL, "EMAIL", text, counts)
    text = _sub(IBAN, "IBAN", text, counts, iban_ok)
    text = _sub(CARD, "CARD", text, counts, _card_ok)
    text = _sub(IPV6, "IP", text, counts)
    text = _sub(IPV4, "IP", text, counts)
    text = _sub(PHONE, "PHONE", text, counts, _phone_ok)
    for label, pattern in extra:
        text = _sub(pattern, label, text, counts)
    return _put_back(text, references), counts


_MARK = "\ue000"  # a private-use character: no pattern above matches it or the letters between two


def _set_aside(text: str) -> tuple[str, list[str]]:
    found: list[str] = []

    def mark(m: re.Match[str]) -> str:
        found.append(m.group())
        return f"{_MARK}{_letters(len(found) - 1)}{_MARK}"

    return (REFERENCE.sub(mark, text) if _MARK not in text else text), found


def _put_back(text: str, found: list[str]) -> str:
    for i, original in enumerate(found):
        text = text.replace(f"{_MARK}{_letters(i)}{_MARK}", original)
    return text


def _letters(n: int) -> str:
    out = ""
    while True:
        out = chr(ord("a") + n % 26) + out
        n //= 26
        if n == 0:
            return out


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
