"""``headwater bench``: throughput, freshness, curation, search latency, embedding backends; peers apart.

:mod:`.throughput` is the default run; :mod:`.freshness`, :mod:`.curate` and :mod:`.search` are its
flags; :mod:`.embed` compares embedding backends (``python -m streams.harness.bench.embed``);
:mod:`.predict` is what a run waits for; :mod:`.pii_corpus` measures redaction and :mod:`.fact_corpus`
(its edits: :mod:`.fact_edits`) the fact rule of near dedup. :mod:`.peers`
(``--peers``) needs ``pip install -e ".[bench]"`` and is left out of the wheel.
"""
