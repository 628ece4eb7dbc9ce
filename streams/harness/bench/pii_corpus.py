"""Planted personal data in real formats, and the precision and recall of redaction per label.

Recall: every planted value, in a sentence of its own, must disappear behind its label.
Precision: clean real text (wiki100, jeopardy) must come out unchanged; any label that
appears there is a false redaction (ISBNs, DOIs, years, ranges, measurements are not PII).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable

TEMPLATES = ("Contact {} for details.", "The form lists {} as the customer's.", "Reach us at {}, 9-5 weekdays.",
             "Payment from {} was declined on 12 March 2024.", "Logged from {} at 2026-01-03 10:00 UTC.")
FIRST = ("jane", "omar", "li", "maria", "k.smith", "anna-lena", "jp", "noah_b")
DOMAINS = ("example.com", "mail.example.org", "corp.example.co.uk", "uni-example.de")


def _luhn_complete(prefix: str, length: int, rnd: random.Random) -> str:
    body = prefix + "".join(str(rnd.randrange(10)) for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = body + check
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch)
            if i % 2 == 1:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def card(rnd: random.Random) -> str:
    prefix, length = rnd.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
                                 ("6011", 16), ("35", 16)])
    digits = _luhn_complete(prefix, length, rnd)
    style = rnd.choice(("plain", "space", "dash"))
    if style == "plain":
        return digits
    groups = [digits[i:i + 4] for i in range(0, len(digits), 4)] if length == 16 else \
        [digits[:4], digits[4:10], digits[10:]]
    return (" " if style == "space" else "-").join(groups)


def iban(rnd: random.Random) -> str:
    country, length = rnd.choice([("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("ES", 24)])
    bban = "".join(str(rnd.randrange(10)) for _ in range(length - 4))
    if country in ("GB", "NL"):
        bban = "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + bban[4:]
    moved = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4)) if rnd.random() < 0.5 else raw


def phone(rnd: random.Random) -> str:
    def d(n: int) -> str:
        return "".join(str(rnd.randrange(10)) for _ in range(n))

    return rnd.choice([
        f"+1 {rnd.randrange(201, 989)} 555 {d(4)}", f"+1-{rnd.randrange(201, 989)}-555-{d(4)}",
        f"+44 20 {d(4)} {d(4)}", f"+49 30 {d(8)}", f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}",
        f"({rnd.randrange(201, 989)}) 555-{d(4)}", f"{rnd.randrange(201, 989)}-555-{d(4)}",
        f"{rnd.randrange(201, 989)}.555.{d(4)}", f"030 {d(8)}", f"020 {d(4)} {d(4)}", f"+91 {d(5)} {d(5)}",
    ])


def email(rnd: random.Random) -> str:
    return f"{rnd.choice(FIRST)}{rnd.randrange(100)}@{rnd.choice(DOMAINS)}"


def ip(rnd: random.Random) -> str:
    if rnd.random() < 0.8:
        return ".".join(str(rnd.randrange(1, 255)) for _ in range(4))
    return ":".join(f"{rnd.randrange(65536):x}" for _ in range(8))


MAKERS: dict[str, Callable[[random.Random], str]] = {"EMAIL": email, "PHONE": phone, "CARD": card,
                                                     "IBAN": iban, "IP": ip}


def planted(n_per_label: int = 200, seed: int = 11) -> list[tuple[str, str, str]]:
    """(label, value, sentence) for ``n_per_label`` values of every label."""
    rnd = random.Random(seed)
    return [(label, value, rnd.choice(TEMPLATES).format(value))
            for label, make in MAKERS.items() for value in (make(rnd) for _ in range(n_per_label))]


def report(redact: Callable[[str], str], clean: Iterable[str], n_per_label: int = 200) -> dict[str, dict[str, float]]:
    """Per label: recall on planted values, and false redactions in the clean texts."""
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for label, value, sentence in planted(n_per_label):
        out = redact(sentence)
        total[label] += 1
        found[label] += value not in out and f"[{label}]" in out
    false: Counter[str] = Counter()
    for text in clean:
        for m in re.finditer(r"\[(EMAIL|PHONE|CARD|IBAN|IP)\]", redact(text)):
            false[m.group(1)] += 1
    return {label: {"recall": found[label] / total[label], "planted": total[label],
                    "false_redactions": false[label],
                    "precision": found[label] / (found[label] + false[label]) if found[label] else 0.0}
            for label in MAKERS}
