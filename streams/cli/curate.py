"""``headwater curate report``: what curation kept out of the index, and why."""

from __future__ import annotations

import json
from typing import Any

import click

from streams.settings import Settings


@click.group()
def curate() -> None:
    """What curation kept out of the index, and why."""


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
