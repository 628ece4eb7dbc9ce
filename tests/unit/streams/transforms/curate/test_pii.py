"""PII precision and recall: planted values in real formats, clean real corpora unchanged."""

import pytest

from connectors.datasets import jeopardy, wiki_files
from streams.harness.bench.pii_corpus import report
from streams.transforms.curate.redact import redact

pytestmark = pytest.mark.unit


def _clean() -> list[str]:
    return [f.read_text() for f in wiki_files()] + [" ".join(str(v) for v in r.values()) for r in jeopardy()]


def test_redaction_recall_and_precision_per_label() -> None:
    figures = report(lambda t: redact(t)[0], _clean())
    for label, f in figures.items():
        assert f["recall"] >= 0.99, (label, f)
        assert f["false_redactions"] == 0, (label, f)


@pytest.mark.parametrize("text", [
    "ISBN 978-0-19-852663-6.", "ISBN 0-306-40615-2", "doi:10.1080/00207160.2012.1234", "in the period 1600-1200 BC",
    "a mass of 207.976652 Da", "version 10.0.19041.1415", "at 51.5074, -0.1278", "Richter 9.1 in 2004-2005",
    "product SKU 4006381333931", "dental formula 2.1.2.3.2.1.2.3", "OCLC 228374819", "S2CID 21613726",
])
def test_identifiers_and_measurements_are_not_pii(text: str) -> None:
    assert redact(text)[0] == text
