"""``headwater bench``: embedding ceiling against pipeline throughput, freshness, memory; curation cost."""

from __future__ import annotations

import importlib.util
import sys

import click

from streams.cli.errors import friendly as _friendly
from streams.settings import Settings


@click.command()
@click.option("--docs", default=8, show_default=True, help="wiki100 articles in the document workload.")
@click.option("--app-events", default=600, show_default=True, help="jeopardy records in the app workload.")
@click.option("--freshness-seconds", default=30.0, show_default=True)
@click.option("--curation", "curation_only", is_flag=True, help="Measure curation cost and gain instead.")
@click.option("--lanes", is_flag=True, help="App/sensor freshness during a backfill of --docs articles instead.")
@click.option("--sensors", type=int, default=0, help="Readings/s for this many readings instead.")
@click.option("--edits", is_flag=True, help="Edit-to-searchable latency in a --docs corpus; cost of re-sending it.")
@click.option("--peers", is_flag=True,
              help="The same --docs job through a hand-written loop, LlamaIndex, Quix Streams and Headwater.")
@click.option("--peer-backend", type=click.Choice(["torch", "same"]), default="torch", show_default=True,
              help="With --peers: the peers embed with sentence-transformers on torch, as their documentation "
                   "does, or with Headwater's own backend (compares the pipelines alone).")
@click.option("--runs", default=1, show_default=True, help="With --peers: repeat, and print the medians.")
@click.option("--search", "search_chunks", type=int, default=0,
              help="Search API latency over an index of this many chunks instead (100000: the target's size).")
@_friendly
def bench(docs: int, app_events: int, freshness_seconds: float, curation_only: bool, lanes: bool, sensors: int,
          edits: bool, peers: bool, peer_backend: str, runs: int, search_chunks: int) -> None:
    """Embedding ceiling vs pipeline throughput, freshness percentiles, worker peak RSS."""
    from streams import stack
    from streams.harness.bench import throughput
    from streams.stack.process import port_open

    if peers and not _peers_present():
        click.echo('error: headwater bench --peers runs from a source checkout: pip install -e ".[bench]"', err=True)
        sys.exit(1)
    s = Settings()
    if not port_open("127.0.0.1", s.stack.kafka_port):
        stack.up(s)
    if peers:
        from streams.harness.bench.peers import run as peers_bench

        peers_bench.quiet()
        peers_bench.run(s, docs=docs, runs=runs, peer_backend=peer_backend)
        return
    if curation_only:
        from streams.harness.bench import curate

        curate.run(s)
        return
    if search_chunks:
        from streams.harness.bench import search

        search.report(search.run(s, n=search_chunks))
        return
    if lanes or sensors or edits:
        from streams.harness.bench import freshness as fb

        figures: dict[str, float] = {}
        if lanes:
            figures |= fb.lanes(s, docs=docs)
        if sensors:
            figures |= fb.sensors(s, sensors, mode="state") | fb.sensors(s, max(sensors // 10, 1000), mode="index")
        if edits:
            figures |= fb.edits(s, docs=docs)
        fb.cleanup(s)
        fb.report(figures)
        return
    throughput.run(s, docs=docs, app_events=app_events, freshness_s=freshness_seconds)


def _peers_present() -> bool:
    """Whether ``bench --peers`` can run here: its package is left out of the wheel (a source checkout has it)."""
    try:
        return importlib.util.find_spec("streams.harness.bench.peers") is not None
    except ImportError:
        return False
