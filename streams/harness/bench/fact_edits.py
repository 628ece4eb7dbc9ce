"""One edit of a text per kind, for the labelled near-copy corpus (``fact_corpus``).

An edit takes a real text and a seeded ``random.Random`` and returns the pair (original, edited), or
None where the text offers nothing to edit (no auxiliary verb to negate, no name inside a sentence).

Edits that change a fact: negation, name, code, number, unit, date; code, unit and date plant a
sentence of their own where the text has none to change. Edits that keep the facts: whitespace,
case, punctuation, reorder, boilerplate, typo, plural.

The word lists here are written from the requirement, apart from the rule they measure
(``streams.transforms.curate.facts``), so that the corpus does not learn the rule's blind spots.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Sequence

Edit = Callable[[str, random.Random], tuple[str, str] | None]

MONTHS = ("January February March April May June July August September October November December").split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
COUNT_WORDS = "two three four five six seven eight nine ten eleven twelve twenty hundred thousand million".split()
CARDINALS = COUNT_WORDS + """zero one thirteen fourteen fifteen sixteen seventeen eighteen nineteen thirty forty
    fifty sixty seventy eighty ninety billion trillion dozen""".split()
ORDINALS = """first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth hundredth
    thousandth half twice""".split()
NEGATIONS = "not no never none nobody nothing nowhere neither nor without cannot non".split()
UNIT_SWAPS = {"km": "miles", "kilometres": "miles", "kilometers": "miles", "miles": "km", "metres": "feet",
              "meters": "feet", "feet": "metres", "m": "ft", "cm": "mm", "mm": "cm", "kg": "lb", "pounds": "kg",
              "g": "mg", "mg": "g", "°C": "°F", "°F": "°C", "litres": "gallons", "hours": "minutes",
              "minutes": "hours", "days": "weeks", "years": "months", "acres": "hectares", "mph": "km/h",
              "percent": "per mille", "tons": "tonnes"}
# Words the fact-keeping edits leave alone: the requirement names them as facts.
FACT_WORDS = frozenset([*CARDINALS, *ORDINALS, *NEGATIONS, *(w.lower() for w in MONTHS + WEEKDAYS), "today",
                        "yesterday", "tomorrow", *UNIT_SWAPS, *UNIT_SWAPS.values()])
FOOTERS = ("Thanks for reading.", "Share this article with your friends.", "Read more stories like this in our "
           "archive.", "This text is shared under a free license.", "Edited for length and clarity.",
           "Subscribe to the newsletter for more.")
CODE_SENTENCES = ("Replace part {} before the next inspection.", "The record is filed under {}.",
                  "See ticket {} for the history.", "Serial number {} was checked.")
QUANTITY_SENTENCES = ("The dose is {} mg a day.", "The trail is {} km long.", "The tank holds {} litres.",
                      "It weighs {} kg.", "The water was {} °C.", "The ride took {} hours.")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
AUX = re.compile(r"\b(?:is|are|was|were|has|have|had|can|could|will|would|should|does|did|must|might)(?= [a-z])")
NEGATED = re.compile(r"\b(?:not|never) |(?<=is|as|id|es|ld|re|ve|do)n['’]t\b")  # not "can't": "ca"
INNER_NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]{3,}\b")  # a capitalized word inside a sentence
REAL_CODE = re.compile(r"\b[A-Z]{1,4}-?\d{2,}[A-Z0-9-]*\b")
NUMBER = re.compile(r"(?<![\w.,-])\d+(?![\w,-])")
MONTH = re.compile(r"\b(?:" + "|".join(MONTHS) + r")\b(?! [a-z])")  # "May be" is no date
WEEKDAY = re.compile(r"\b(?:" + "|".join(WEEKDAYS) + r")\b")
YEAR = re.compile(r"\b(?:1[5-9]\d\d|20[0-2]\d)\b")
UNIT = re.compile(r"(?<=\d)( ?)(" + "|".join(sorted(map(re.escape, UNIT_SWAPS), key=len, reverse=True)) + r")(?!\w)")
# A lowercase word on its own, not a part of a compound, code or address: Neo-eneolithic, doi:10.1/mitpress.
ORDINARY = re.compile(r"(?<![\w'’/.-])[a-z]{4,}(?![\w'’/-]|\.\w)")
COUNTED = re.compile(r"(?:\d|\b(?:" + "|".join(CARDINALS) + r"))(?:['’]s)? ?$", re.IGNORECASE)


def _pick(rnd: random.Random, pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = list(pattern.finditer(text))
    return rnd.choice(found) if found else None


def _splice(text: str, m: re.Match[str], new: str, group: int = 0) -> str:
    return text[:m.start(group)] + new + text[m.end(group):]


def _plant(text: str, sentence: str, rnd: random.Random) -> str:
    """``sentence`` put between two of the text's sentences, or before or after them."""
    parts = SENTENCE_END.split(text)
    parts.insert(rnd.randrange(len(parts) + 1), sentence)
    return " ".join(parts)


def _other(rnd: random.Random, choices: Sequence[str], not_this: str) -> str:
    return rnd.choice([c for c in choices if c != not_this])


def negation(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """Inserts "not" after an auxiliary, or removes a "not"/"never"/"n't"; "with" becomes "without"."""
    options = [(m, "") for m in NEGATED.finditer(text)]
    options += [(m, m.group() + " not") for m in AUX.finditer(text)]
    options += [(m, "without") for m in re.finditer(r"\bwith\b", text)]
    if not options:
        return None
    m, new = rnd.choice(options)
    return text, _splice(text, m, new)


def name(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """One letter of a capitalized word inside a sentence changed: Smith -> Smyth."""
    m = _pick(rnd, INNER_NAME, text)
    if m is None:
        return None
    word = m.group()
    i = rnd.randrange(1, len(word))
    pool = "aeiouy" if word[i] in "aeiouy" else "bcdfghklmnprstvwz"
    return text, _splice(text, m, word[:i] + _other(rnd, pool, word[i]) + word[i + 1:])


def _code(rnd: random.Random) -> str:
    def letters(n: int) -> str:
        return "".join(rnd.choices(string.ascii_uppercase, k=n))

    def digits(n: int) -> str:
        return "".join(rnd.choices(string.digits, k=n))

    return rnd.choice([f"{letters(2)}-{digits(4)}-{letters(1)}", f"{letters(1)}{digits(3)}",
                       f"{letters(3)}{digits(6)}", f"{digits(4)}-{letters(2)}", f"{letters(2)}{digits(2)}-{digits(3)}"])


def code(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """One character of a code changed, a letter for a letter or a digit for a digit: XK-4471-B -> XK-4471-C.

    The code is the text's own (A320, COVID-19) or planted, in both texts, in a sentence of its own.
    """
    m = _pick(rnd, REAL_CODE, text)
    if m is None:
        planted = _code(rnd)
        text = _plant(text, rnd.choice(CODE_SENTENCES).format(planted), rnd)
        m = re.search(re.escape(planted), text)
        assert m is not None
    word = m.group()
    i = rnd.choice([j for j, ch in enumerate(word) if ch.isalnum()])
    pool = string.digits if word[i].isdigit() else string.ascii_uppercase
    return text, _splice(text, m, word[:i] + _other(rnd, pool, word[i]) + word[i + 1:])


def number(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """A number changed: one digit of it, or a count word for another."""
    options = [*NUMBER.finditer(text), *re.finditer(r"\b(?:" + "|".join(COUNT_WORDS) + r")\b", text)]
    if not options:
        return None
    m = rnd.choice(options)
    word = m.group()
    if not word.isdigit():
        return text, _splice(text, m, _other(rnd, COUNT_WORDS, word))
    i = rnd.randrange(len(word))
    pool = "123456789" if i == 0 and len(word) > 1 else string.digits
    return text, _splice(text, m, word[:i] + _other(rnd, pool, word[i]) + word[i + 1:])


def unit(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """The unit after a number changed (km -> miles, °C -> °F); planted as a quantity where there is none."""
    m = _pick(rnd, UNIT, text)
    if m is None:
        text = _plant(text, rnd.choice(QUANTITY_SENTENCES).format(rnd.randrange(2, 500)), rnd)
        m = _pick(rnd, UNIT, text)
        assert m is not None
    return text, _splice(text, m, UNIT_SWAPS[m.group(2)], group=2)


def date(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """A month, weekday or year changed; a dated sentence planted where the text has none."""
    options = [*MONTH.finditer(text), *WEEKDAY.finditer(text), *YEAR.finditer(text)]
    if not options:
        planted = f"It was signed on {rnd.choice(WEEKDAYS)}, {rnd.randrange(1, 29)} {rnd.choice(MONTHS)}."
        text = _plant(text, planted, rnd)
        options = [*MONTH.finditer(text), *WEEKDAY.finditer(text)]
    m = rnd.choice(options)
    word = m.group()
    if word.isdigit():
        new = str(int(word) + rnd.choice([-1, 1]) * rnd.randrange(1, 30))
    else:
        new = _other(rnd, MONTHS if word in MONTHS else WEEKDAYS, word)
    return text, _splice(text, m, new)


def whitespace(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """Spaces doubled, turned into line breaks or tabs; space around the text."""
    spaces = [m.start() for m in re.finditer(" ", text)]
    out = list(text)
    for i in rnd.sample(spaces, min(len(spaces), rnd.randint(1, 4))):
        out[i] = rnd.choice(["  ", "\n", "\t", " \n "])
    return text, rnd.choice(["", " ", "\n"]) + "".join(out) + rnd.choice(["", " ", "\n\n"])


def case(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """The whole text in lower or upper case, or its sentence starts swapped."""
    how = rnd.choice(["lower", "upper", "starts"])
    if how != "starts":
        return text, text.lower() if how == "lower" else text.upper()
    return text, " ".join(s[:1].swapcase() + s[1:] for s in SENTENCE_END.split(text))


def punctuation(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """Commas dropped, quotes curled, parentheses turned to commas, the final stop dropped or added."""
    edits: list[Callable[[str], str]] = [
        lambda t: re.sub(r",(?=\s)|(?<=\d),(?=\d{3}(?!\d))", "", t),  # "3,4,5" is three numbers: left alone
        lambda t: re.sub(r'"([^"]*)"', "“\\1”", t).replace("'", "’"),
        lambda t: re.sub(r" \(([^()]*)\)", r", \1,", t),
        lambda t: t[:-1] if t.endswith(".") else t + ".",
    ]
    edited = text
    for edit in rnd.sample(edits, rnd.randint(1, len(edits))):
        edited = edit(edited)
    return text, edited


def reorder(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """Sentences in another order; or a boilerplate line moved from the head of the text to its foot."""
    parts = SENTENCE_END.split(text)
    if len(set(parts)) > 1 and rnd.random() < 0.7:
        while (moved := rnd.sample(parts, len(parts))) == parts:
            pass
        return text, " ".join(moved)
    line = rnd.choice(FOOTERS)
    return f"{line}\n{text}", f"{text}\n{line}"


def boilerplate(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """A boilerplate footer appended, or repeated where there already is one."""
    footer = rnd.choice(FOOTERS)
    if rnd.random() < 0.5:
        return text, f"{text}\n\n{footer}"
    return f"{text}\n\n{footer}", f"{text}\n\n{footer}\n{footer}"


def _ordinary(text: str, rnd: random.Random) -> re.Match[str] | None:
    """A lowercase word that is not a fact word and does not follow a count ("3 km": a unit's business)."""
    words = [m for m in ORDINARY.finditer(text) if m.group() not in FACT_WORDS
             and not COUNTED.search(text, max(0, m.start() - 16), m.start())]
    return rnd.choice(words) if words else None


def typo(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """A typo in an ordinary lowercase word, and its fix: a letter dropped, doubled or swapped."""
    m = _ordinary(text, rnd)
    if m is None:
        return None
    w, i = m.group(), rnd.randrange(1, len(m.group()) - 1)
    wrong = rnd.choice([w[:i] + w[i + 1:], w[:i] + w[i] + w[i:], w[:i] + w[i + 1] + w[i] + w[i + 2:]])
    if wrong == w or wrong in FACT_WORDS:
        return None
    return _splice(text, m, wrong), text


def plural(text: str, rnd: random.Random) -> tuple[str, str] | None:
    """An ordinary lowercase word in the singular where it was plural, or the other way: rivers -> river."""
    m = _ordinary(text, rnd)
    if m is None:
        return None
    w = m.group()
    if w.endswith(("ss", "us", "is", "ly", "ed", "ing")):
        return None
    other = w[:-1] if w.endswith("s") else w + "s"
    return (text, _splice(text, m, other)) if other not in FACT_WORDS else None
