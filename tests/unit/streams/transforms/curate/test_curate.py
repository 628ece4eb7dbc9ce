import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.chunk import ChunkRecord
from streams.transforms.curate.dedup import Existing, find_duplicates
from streams.transforms.curate.judge import QualityRules, quality_issue
from streams.transforms.curate.redact import iban_ok, luhn_ok, redact
from streams.transforms.fingerprint import dedup_key, jaccard, lsh_bands

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "expected"), [
    ("mail jane.doe@example.com now", "mail [EMAIL] now"),
    ("call +49 30 12345678 today", "call [PHONE] today"),
    ("call (415) 555-0134 today", "call [PHONE] today"),
    ("card 4111 1111 1111 1111.", "card [CARD]."),
    ("card 4111-1111-1111-1112 fails Luhn", "card 4111-1111-1111-1112 fails Luhn"),
    ("IBAN DE89 3704 0044 0532 0130 00 ok", "IBAN [IBAN] ok"),
    ("IBAN DE00 3704 0044 0532 0130 00 bad checksum", "IBAN DE00 3704 0044 0532 0130 00 bad checksum"),
    ("from 10.0.0.12 and fe80:0:0:0:200:f8ff:fe21:67cf", "from [IP] and [IP]"),
    ("at 2026-02-01 00:00 UTC in 1999, order 12345678", "at 2026-02-01 00:00 UTC in 1999, order 12345678"),
])
def test_redact(text: str, expected: str) -> None:
    assert redact(text)[0] == expected


def test_redact_counts_and_extra_patterns() -> None:
    import re

    text, counts = redact("EMP-123456 wrote to a@b.io and c@d.io", [("EMPLOYEE", re.compile(r"EMP-\d{6}"))])
    assert text == "[EMPLOYEE] wrote to [EMAIL] and [EMAIL]"
    assert counts == {"EMAIL": 2, "EMPLOYEE": 1}


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")


@pytest.mark.parametrize(("text", "reason"), [
    ("ok", "trivial:too_short"),
    ("ab cd ef !!!! ???? #### $$$$ %%%% &&&& ****", "trivial:symbols"),
    ("spam " * 20, "trivial:repetitive"),
    ("Click here to read the whole story", "trivial:boilerplate"),
    ("this is porn for sale here", "nsfw:blocked_word"),
    ("The pump in hall 3 was replaced on Monday.", None),
    ("nobody wants you here, just go die already", "toxic:pattern"),
    ("You're a worthless moron and everyone knows it", "toxic:pattern"),
    ("I'll find you after the match, count on it", "toxic:pattern"),
    ("Shoot the photos yourself at dawn for the best light.", None),
    ("The skill you are learning is worth the effort.", None),
])
def test_quality(text: str, reason: str | None) -> None:
    assert quality_issue(text, QualityRules()) == reason


def test_language_allowlist() -> None:
    assert quality_issue("Die Pumpe ist heute ausgefallen.", QualityRules(languages=("en",)), "de") == \
        "trivial:language"


def test_content_key_and_near_similarity() -> None:
    a = "The quick brown fox jumps over the lazy dog near the river bank."
    assert dedup_key(a) == dedup_key("  the QUICK brown fox, jumps over the lazy dog near the river bank ")
    b = a.replace("jumps", "jumped")
    assert jaccard(a, b) > 0.7 and set(lsh_bands(a)) & set(lsh_bands(b))
    assert jaccard(a, "Completely different words about stock markets and interest rates.") < 0.2


def rec(uuid: str, text: str, doc_id: str = "", kind: str = "app") -> ChunkRecord:
    return ChunkRecord(uuid, "t", text, {"content_hash": dedup_key(text), "lsh_bands": lsh_bands(text),
                                         "doc_id": doc_id, "kind": kind})


TEXT = "Category: RIVERS. Question: The longest river in Africa. Answer: the Nile"


def test_duplicates_first_wins_and_never_itself_or_its_own_document() -> None:
    batch = [rec("a", TEXT), rec("b", TEXT), rec("c", TEXT.replace("longest", "longst")),
             rec("d", "Completely unrelated text about a red bicycle in Amsterdam.")]
    assert find_duplicates(batch, lambda *_: []) == {"b": "duplicate:exact of a", "c": "duplicate:near of a"}
    existing = [Existing("x", "", dedup_key(TEXT), TEXT, tuple(lsh_bands(TEXT)))]
    assert set(find_duplicates([rec("a", TEXT)], lambda *_: existing)) == {"a"}
    assert find_duplicates([rec("x", TEXT)], lambda *_: existing) == {}  # a replay of itself
    own = [Existing("old", "guide", dedup_key(TEXT), TEXT, ())]
    assert find_duplicates([rec("new", TEXT, doc_id="guide", kind="document")], lambda *_: own) == {}
    assert find_duplicates([rec("s1", TEXT, kind="sensor"), rec("s2", TEXT, kind="sensor")], lambda *_: []) == {}


@pytest.mark.parametrize(("spans", "expected"), [
    ([], "call Ann at 555"),
    ([(5, 8, "PERSON")], "call [PERSON] at 555"),
    ([(12, 15, "PHONE"), (5, 8, "PERSON")], "call [PERSON] at [PHONE]"),
    ([(5, 8, "PERSON"), (5, 15, "X"), (6, 7, "Y")], "call [X]"),  # overlaps merge into the widest first span
    ([(3, 3, "EMPTY")], "call Ann at 555"),
])
def test_redact_spans(spans: list[tuple[int, int, str]], expected: str) -> None:
    from streams.transforms.curate.redact import redact_spans

    text, counts = redact_spans("call Ann at 555", spans)
    assert text == expected
    assert sum(counts.values()) == expected.count("[")


def test_presidio_recognizers_redact_what_the_regexes_miss() -> None:
    """The optional presidio-analyzer backend (real presidio, pattern recognizers, no NER model)."""
    from streams.agents.runtime import curation
    from streams.settings import CurateSettings

    wallet = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
    text = f"Refund sent to wallet {wallet}; receipt to ann@example.org."
    plain = curation(CurateSettings())
    assert wallet in plain.redact_text(text)[0]
    with_presidio = curation(CurateSettings(presidio=True))
    out, counts = with_presidio.redact_text(text)
    assert out == "Refund sent to wallet [CRYPTO]; receipt to [EMAIL]."
    assert counts == {"CRYPTO": 1, "EMAIL": 1}


def test_presidio_with_a_missing_spacy_model_names_the_setting() -> None:
    from streams.agents.runtime import curation
    from streams.settings import CurateSettings

    with pytest.raises(RuntimeError, match="HEADWATER_CURATE__PRESIDIO_MODEL"):
        curation(CurateSettings(presidio=True, presidio_model="no_such_model_xx"))


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_band_keys_are_those_of_a_fresh_minhash(text: str) -> None:
    """Stored band keys must not change with how they are computed (permutations made once)."""
    import hashlib

    from datasketch import MinHash

    from streams.transforms.fingerprint import lsh_bands, shingles

    mh = MinHash(num_perm=64, seed=1)
    mh.update_batch(list(shingles(text, 5)))
    hv = mh.hashvalues
    assert lsh_bands(text) == [f"{b}:{hashlib.blake2b(hv[b * 4:(b + 1) * 4].tobytes(), digest_size=8).hexdigest()}"
                               for b in range(16)]
