"""The near-dup fact rule: one-fact variants are kept, true near copies are dropped, on tables and real text."""

import random
import string

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.chunk import ChunkRecord
from streams.harness.bench.fact_corpus import DIFFERENT, SAME, measure, pairs, real_texts, table
from streams.transforms.curate.dedup import find_duplicates
from streams.transforms.curate.facts import differs_in_facts
from streams.transforms.fingerprint import dedup_key, lsh_bands

pytestmark = pytest.mark.unit

# (kind, a, b): b states another fact than a; each must be kept.
ONE_FACT_VARIANTS = [
    ("reported: negation", "The patient in bed 4 is allergic to penicillin and was given amoxicillin.",
     "The patient in bed 4 is not allergic to penicillin and was given amoxicillin."),
    ("reported: name", "The change to the cooling loop was approved by Smith on the night shift.",
     "The change to the cooling loop was approved by Smyth on the night shift."),
    ("reported: code", "Replace part XK-4471-B before the next inspection of pump 2.",
     "Replace part XK-4471-C before the next inspection of pump 2."),
    ("negation n't", "The fire door isn't locked at night.", "The fire door is locked at night."),
    ("negation never", "The valve was never opened during the test.", "The valve was opened during the test."),
    ("negation without", "Serve the tea with sugar.", "Serve the tea without sugar."),
    ("negation at a sentence start", "No smoking in the lab.", "Smoking in the lab."),
    ("name at a sentence start", "Smith approved the invoice.", "Smyth approved the invoice."),
    ("name, a month at a sentence start", "March was the wettest month, as you may recall.",
     "May was the wettest month, as you may recall."),
    ("code, a digit", "Order A1234 shipped today.", "Order A1235 shipped today."),
    ("code in lowercase", "ticket inc-0042 was closed", "ticket inc-0043 was closed"),
    ("code, inner capital", "Install the app on the iPhone first.", "Install the app on the iPhane first."),
    ("number", "Take 3 tablets a day.", "Take 4 tablets a day."),
    ("number word", "Take three tablets a day.", "Take four tablets a day."),
    ("number in a compound", "He was twenty-five years old.", "He was twenty-six years old."),
    ("decimal", "The rate is 2.5 percent.", "The rate is 25 percent."),
    ("thousands", "The house sold for 1,000,000 dollars.", "The house sold for 1,000,001 dollars."),
    ("unit mg/g", "The dose is 5 mg a day.", "The dose is 5 g a day."),
    ("unit °C/°F", "Store the samples at 20 °C.", "Store the samples at 20 °F."),
    ("unit km/miles", "The trail is 12 km long.", "The trail is 12 miles long."),
    ("unit, a word", "The trip takes 3 days.", "The trip takes 3 weeks."),
    ("unit, currency", "The ticket costs $5.", "The ticket costs €5."),
    ("unit without a number", "The dose is given in mg.", "The dose is given in g."),
    ("date, month", "The contract was signed on 3 May 2024.", "The contract was signed on 3 June 2024."),
    ("date, weekday", "The meeting is on Monday.", "The meeting is on Tuesday."),
    ("date, year", "The war ended in 1865.", "The war ended in 1866."),
    ("date, time of day", "The shop opens at 10 a.m. daily.", "The shop opens at 10 p.m. daily."),
]

# (kind, a, b): b says what a says; b is a duplicate.
NEAR_COPIES = [
    ("whitespace", "The  river\n flows north\tinto the sea.", "The river flows north into the sea."),
    ("case", "The river flows north into the sea.", "THE RIVER FLOWS NORTH INTO THE SEA."),
    ("punctuation", "Hello, world! It is 5 o'clock.", "Hello world It is 5 o’clock"),
    ("reorder", "Pump A runs at 5 bar. Pump B runs at 6 bar.", "Pump B runs at 6 bar. Pump A runs at 5 bar."),
    ("boilerplate", "The Nile is the longest river in Africa.",
     "The Nile is the longest river in Africa.\n\nThanks for reading."),
    ("boilerplate repeated", "Take 2 tablets daily.\nShare this article with your friends.",
     "Take 2 tablets daily.\nShare this article with your friends.\nShare this article with your friends."),
    ("typo", "You will recieve the parcel on Monday.", "You will receive the parcel on Monday."),
    ("typo, the old table", "Category: RIVERS. Question: The longest river in Africa. Answer: the Nile",
     "Category: RIVERS. Question: The longst river in Africa. Answer: the Nile"),
    ("plural", "The river flows north.", "The rivers flows north."),
    ("plural after a count", "There are 3 rivers here.", "There are 3 river here."),
    ("thousands separator", "The house sold for 1,000 dollars.", "The house sold for 1000 dollars."),
    ("contraction", "The door isn't locked.", "The door is not locked."),
    ("cannot", "It cannot be opened.", "It can not be opened."),
    ("degree sign spacing", "Store at 20 °C.", "Store at 20°C."),
    ("apostrophe", "Ford's Theatre is in Washington.", "Ford’s Theatre is in Washington."),
]


@pytest.mark.parametrize(("kind", "a", "b"), ONE_FACT_VARIANTS, ids=[k for k, _, _ in ONE_FACT_VARIANTS])
def test_a_one_fact_variant_differs_both_ways(kind: str, a: str, b: str) -> None:
    assert differs_in_facts(a, b) and differs_in_facts(b, a), kind


@pytest.mark.parametrize(("kind", "a", "b"), NEAR_COPIES, ids=[k for k, _, _ in NEAR_COPIES])
def test_a_near_copy_is_the_same_fact_both_ways(kind: str, a: str, b: str) -> None:
    assert not differs_in_facts(a, b) and not differs_in_facts(b, a), kind


def test_on_a_fresh_corpus_no_fact_is_lost_and_nine_in_ten_copies_are_dropped() -> None:
    seed = random.randrange(2**32)
    f = measure(differs_in_facts, n=600, seed=seed)
    assert not f.missed, f"seed {seed}: one-fact variants judged the same\n{table(f)}"
    assert f.recall >= 0.90, f"seed {seed}: too few near copies judged the same\n{table(f)}"
    assert f.mean_us < 2000, f"seed {seed}: the rule is slow\n{table(f)}"  # about 0.2 ms; a guard, not a bench


def test_the_corpus_is_labelled_balanced_and_fixed_by_its_seed() -> None:
    seed = random.randrange(2**32)
    corpus = pairs(real_texts(), 520, seed)
    assert corpus == pairs(real_texts(), 520, seed), f"seed {seed}"
    assert corpus != pairs(real_texts(), 520, seed + 1), f"seed {seed}"
    assert sum(p.same for p in corpus) == 260
    assert {p.kind for p in corpus} == set(DIFFERENT) | set(SAME)
    assert all(p.same == (p.kind in SAME) and p.a != p.b for p in corpus), f"seed {seed}"


def _rec(uuid: str, text: str) -> ChunkRecord:
    return ChunkRecord(uuid, "t", text, {"content_hash": dedup_key(text), "lsh_bands": lsh_bands(text),
                                         "doc_id": "", "kind": "app"})


def test_near_dedup_drops_the_copy_and_keeps_the_variant() -> None:
    base = "Night shift report: the patient in bed 4 is allergic to penicillin; the ward was quiet and calm."
    batch = [_rec("a", base), _rec("copy", base.replace("quiet", "quite")),
             _rec("variant", base.replace("is allergic", "is not allergic"))]
    assert find_duplicates(batch, lambda *_: []) == {"copy": "duplicate:near of a"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_equal_texts_never_differ_and_the_rule_is_symmetric(a: str, b: str) -> None:
    assert not differs_in_facts(a, a)
    assert differs_in_facts(a, b) == differs_in_facts(b, a)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + " .,;:!?'-()$%\n", max_size=300), st.randoms())
def test_spacing_and_case_are_never_a_fact(text: str, rnd: random.Random) -> None:
    import re

    respaced = re.sub(r"[ \t]+", lambda _: rnd.choice([" ", "  ", "\t", " \t "]), text)
    assert not differs_in_facts(text, respaced)
    assert not differs_in_facts(text, text.upper()) and not differs_in_facts(text, text.lower())


def test_the_cli_prints_the_table_with_its_seed() -> None:
    from streams.cli.curate import curate

    out = CliRunner().invoke(curate, ["facts", "--pairs", "60", "--seed", "5"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("seed 5\n") and "recall of 'different'" in out.output
