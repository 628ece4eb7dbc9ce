"""``headwater curate``: what curation kept out of the index (``report``), how its fact rule reads (``facts``)."""

from __future__ import annotations

import json
from typing import Any

import click

from streams.settings import Settings


@click.group()
def curate() -> None:
    """What curation kept out of the index, and why; how its fact rule reads near copies."""


@curate.command("report")
@click.option("--events", "show", default=0, help="Also list the last N audit records.")
def curation_report(show: int) -> None:
    """Drops by reason and kind, redactions by label and kind, from the audit topic."""
    from collections import deque

    from streams.observe.audit import read_audit, summarize

    s = Settings()
    last: deque[dict[str, Any]] = deque(maxlen=max(show, 1))

    def keep() -> Any:
        for r in read_audit(s):
            last.append(r)
            yield r

    drops, redactions = summarize(keep())
    click.echo(f"{'dropped':28} {'kind':9} {'count':>7}")
    for (reason, kind), n in sorted(drops.items()):
        click.echo(f"{reason:28} {kind:9} {n:>7}")
    click.echo(f"\n{'redacted':28} {'kind':9} {'count':>7}")
    for (label, kind), n in sorted(redactions.items()):
        click.echo(f"{label:28} {kind:9} {n:>7}")
    if show:
        click.echo("")
        for r in last:
            click.echo(json.dumps(r))


@curate.command("facts")
@click.option("--pairs", default=600, show_default=True, help="Labelled pairs, half of them one-fact variants.")
@click.option("--seed", type=int, default=None, help="The corpus's seed; a fresh one when left out (printed).")
def facts(pairs: int, seed: int | None) -> None:
    """How the near-dup fact rule judges near copies of real text: precision and recall per edit kind."""
    import random

    from streams.harness.bench.fact_corpus import measure, table
    from streams.transforms.curate.facts import differs_in_facts

    click.echo(table(measure(differs_in_facts, n=pairs, seed=random.randrange(2**32) if seed is None else seed)))
