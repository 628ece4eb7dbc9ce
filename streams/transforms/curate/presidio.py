"""Optional PII recognizer backed by presidio-analyzer (``pip install 'headwater[presidio]'``).

Adds presidio's recognizers (SSNs, passports, crypto wallets, licences, and with a
spaCy NER model also names and places) to the built-in regex redaction. Returns
spans only; :func:`streams.transforms.curate.redact_spans` does the replacing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

Span = tuple[int, int, str]

# Presidio's names for what the built-in redaction already labels, so counters stay comparable.
LABELS = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "IBAN_CODE": "IBAN",
          "IP_ADDRESS": "IP"}


def load(model: str | None, entities: Sequence[str], min_score: float,
         language: str = "en") -> Callable[[str], list[Span]]:
    """A recognizer ``text -> spans``.

    ``model`` is an installed spaCy model name or path; None uses a blank pipeline,
    which runs presidio's pattern recognizers but no NER (no names or places).
    """
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError as exc:
        raise RuntimeError("curate.presidio is on but presidio-analyzer is not installed: "
                           "pip install 'headwater[presidio]', or set HEADWATER_CURATE__PRESIDIO=false") from exc
    if model is not None and not (spacy.util.is_package(model) or Path(model).exists()):
        raise RuntimeError(f"spaCy model {model!r} is not installed; install it or unset "
                           "HEADWATER_CURATE__PRESIDIO_MODEL to use pattern recognizers only")
    # tldextract (used by the email recognizer) tries to fetch the public suffix list and falls back to its
    # bundled copy; offline that attempt logs a long traceback per process.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": model or "blank"}])
    engine.nlp = {language: spacy.load(model) if model else spacy.blank(language)}  # type: ignore[assignment]
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=[language])
    wanted = list(entities) or None

    def recognize(text: str) -> list[Span]:
        found = analyzer.analyze(text, language=language, entities=wanted, score_threshold=min_score)
        return [(r.start, r.end, LABELS.get(r.entity_type, r.entity_type)) for r in found]

    return recognize
