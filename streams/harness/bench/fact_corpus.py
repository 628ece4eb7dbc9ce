"""A labelled corpus of near copies from real text, and how well a fact rule reads it.

Every pair is two texts one edit apart (``fact_edits``): a one-fact variant (negation, name, code,
number, unit, date: label "different", both must be kept) or a true near copy (whitespace, case,
punctuation, reorder, boilerplate, typo, plural: label "same", the second is a duplicate). Half
the pairs are of each label, the kinds in turn; which text is first is drawn too, as the rule must
not care. Texts are jeopardy clues and wiki100 sentences and paragraphs (``connectors.datasets``).
``pairs`` is pure and deterministic for a seed; a new seed gives new examples.

``measure`` scores a rule ``differs(a, b) -> bool`` the way near dedup uses it: a pair judged the
same is dropped, so "precision" and "recall" are those of the decision to drop.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from streams.harness.bench import fact_edits as e

DIFFERENT: dict[str, e.Edit] = {"negation": e.negation, "name": e.name, "code": e.code, "number": e.number,
                                "unit": e.unit, "date": e.date}
SAME: dict[str, e.Edit] = {"whitespace": e.whitespace, "case": e.case, "punctuation": e.punctuation,
                           "reorder": e.reorder, "boilerplate": e.boilerplate, "typo": e.typo, "plural": e.plural}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    kind: str
    same: bool  # the label: True for a true near copy, False for a one-fact variant


@dataclass(frozen=True)
class KindFigures:
    kind: str
    same: bool
    pairs: int
    judged_same: int


@dataclass(frozen=True)
class Figures:
    """The rule on one corpus; "same" is the rule's decision to drop the second text as a duplicate."""

    seed: int
    kinds: tuple[KindFigures, ...]
    precision: float         # of the pairs judged same, the share that are true near copies
    recall: float            # of the true near copies, the share judged same
    different_recall: float  # of the one-fact variants, the share judged different (the goal: 1.0)
    mean_us: float           # the rule's time per pair
    max_us: float
    missed: tuple[Pair, ...]  # one-fact variants judged same: each would lose a fact


@cache
def real_texts() -> tuple[str, ...]:
    """Jeopardy clues as the app events carry them, wiki100 paragraphs, and runs of two sentences."""
    from connectors import datasets

    clues = [f"Category: {r['Category']}. Question: {r['Question']} Answer: {r['Answer']}" for r in datasets.jeopardy()]
    paragraphs = [p.strip() for f in datasets.wiki_files() for p in f.read_text().splitlines()
                  if 80 <= len(p.strip()) <= 2000]
    runs = [" ".join(s[i:i + 2]) for p in paragraphs if len(s := e.SENTENCE_END.split(p)) > 1
            for i in range(0, len(s) - 1, 2)]
    return tuple(clues + paragraphs[::3] + runs[::5])


def pairs(texts: Sequence[str], n: int = 600, seed: int = 0) -> list[Pair]:
    """``n`` labelled pairs edited from ``texts``, half of each label, every kind in turn."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        edits = DIFFERENT if i % 2 == 0 else SAME
        kind = list(edits)[(i // 2) % len(edits)]
        a, b = _edited(texts, edits[kind], rnd)
        out.append(Pair(*((a, b) if rnd.random() < 0.5 else (b, a)), kind=kind, same=edits is SAME))
    return out


def _edited(texts: Sequence[str], edit: e.Edit, rnd: random.Random) -> tuple[str, str]:
    for _ in range(1000):
        got = edit(rnd.choice(texts), rnd)
        if got and got[0] != got[1]:
            return got
    raise ValueError(f"{edit.__name__}: no text of the {len(texts)} given offers anything to edit")


def measure(differs: Callable[[str, str], bool], n: int = 600, seed: int = 0,
            texts: Sequence[str] | None = None) -> Figures:
    """``differs`` over ``n`` fresh pairs of ``seed``: precision and recall of its "same", per kind and overall."""
    corpus = pairs(real_texts() if texts is None else texts, n, seed)
    judged, times = [], []
    for p in corpus:
        start = time.perf_counter()
        judged.append(not differs(p.a, p.b))
        times.append(time.perf_counter() - start)
    kinds = tuple(KindFigures(k, k in SAME, sum(p.kind == k for p in corpus),
                              sum(j for p, j in zip(corpus, judged, strict=True) if p.kind == k))
                  for k in [*DIFFERENT, *SAME])
    true_same = sum(j and p.same for p, j in zip(corpus, judged, strict=True))
    missed = tuple(p for p, j in zip(corpus, judged, strict=True) if j and not p.same)
    labelled_same = sum(p.same for p in corpus)
    return Figures(seed, kinds, precision=true_same / max(sum(judged), 1), recall=true_same / max(labelled_same, 1),
                   different_recall=1 - len(missed) / max(len(corpus) - labelled_same, 1),
                   mean_us=sum(times) / len(times) * 1e6, max_us=max(times) * 1e6, missed=missed)


def table(f: Figures) -> str:
    """The figures as a table: per kind how many were judged same and the share judged right; totals; misses."""
    lines = [f"seed {f.seed}", f"{'edit':12} {'label':9} {'pairs':>5} {'judged same':>11} {'right':>6}"]
    for k in f.kinds:
        rate = k.judged_same / k.pairs if k.same else 1 - k.judged_same / k.pairs
        lines.append(f"{k.kind:12} {'same' if k.same else 'different':9} {k.pairs:>5} {k.judged_same:>11} "
                     f"{rate:>6.1%}")
    lines += ["", f"precision of 'same' (dropped): {f.precision:.1%}   recall of 'same': {f.recall:.1%}   "
                  f"recall of 'different' (kept): {f.different_recall:.1%}",
              f"rule time per pair: mean {f.mean_us:.0f} µs, max {f.max_us:.0f} µs"]
    lines += [f"missed {p.kind}: {_diff(p.a, p.b)}" for p in f.missed]
    return "\n".join(lines)


def _diff(a: str, b: str) -> str:
    """Where two texts part, with a little context, for a one-line report of a miss."""
    i = next((j for j, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, i - 30)
    return f"{a[start:i + 30]!r} / {b[start:i + 30]!r}"

