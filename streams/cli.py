"""The ``headwater`` command line.

Each command builds ``Settings()`` once and passes it down. Failures the user can
fix end with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from streams.settings import Settings


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    from streams.stack import StackError

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StackError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
def main() -> None:
    """Headwater: streaming ingestion and indexing for RAG."""


@main.group()
def stack() -> None:
    """Run Kafka, Weaviate and Mosquitto locally, without Docker."""


@stack.command("up")
@_friendly
def stack_up() -> None:
    """Install (first time), start and wait for every service."""
    from streams import stack as st

    _print_status(st.up(Settings()))


@stack.command("down")
@click.option("--wipe", is_flag=True, help="Also delete all service data.")
@_friendly
def stack_down(wipe: bool) -> None:
    """Stop every service; the data stays unless --wipe."""
    from streams import stack as st

    st.down(Settings(), wipe=wipe)


@stack.command("status")
@_friendly
def stack_status() -> None:
    """Show each service's state, version, address and data directory."""
    from streams import stack as st

    rows = st.status(Settings())
    _print_status(rows)
    sys.exit(0 if all(r.state == "ready" for r in rows) else 3)


@stack.command("logs")
@click.argument("service", type=click.Choice(["kafka", "weaviate", "mosquitto"]))
@click.option("-n", "--lines", default=40, show_default=True)
def stack_logs(service: str, lines: int) -> None:
    """Print the end of a service's log."""
    from streams import stack as st

    svc = next(s for s in st.services(Settings()) if s.name == service)
    click.echo(f"# {svc.proc.log_file}")
    click.echo(svc.proc.tail(lines))


def _print_status(rows: list[Any]) -> None:
    click.echo(f"{'service':10} {'state':9} {'version':9} {'pid':>7}  {'address':38} data")
    for r in rows:
        click.echo(f"{r.name:10} {r.state:9} {r.version:9} {r.pid or '-':>7}  {r.address:38} {r.data_dir}")


@main.command()
@click.option("-l", "--loglevel", default="info", type=click.Choice(["crit", "error", "warn", "info", "debug"]))
def worker(loglevel: str) -> None:
    """Run the stream worker (validate, render, chunk, enrich, embed, upsert) until Ctrl-C."""
    from streams.agents.worker import create_app

    app = create_app(Settings())
    sys.argv = ["headwater", "worker", "-l", loglevel]
    app.main()


@main.command()
@click.argument("text")
@click.option("-k", default=5, show_default=True)
@click.option("--tenant", default="default", show_default=True)
@click.option("--kind", type=click.Choice(["sensor", "app", "document"]))
@click.option("--source")
@click.option("--entity")
@click.option("--alpha", type=float, help="0 = BM25 only, 1 = vector only (default: setting).")
@click.option("--json", "as_json", is_flag=True)
def query(text: str, k: int, tenant: str, kind: str | None, source: str | None, entity: str | None,
          alpha: float | None, as_json: bool) -> None:
    """Hybrid search with citations."""
    from streams.embedder import Embedder
    from streams.search import SearchRequest, search
    from streams.weaviate_client import connect

    s = Settings()
    req = SearchRequest(query=text, tenant=tenant, k=k, alpha=alpha, kind=kind, source=source, entity_id=entity)
    client = connect(s.weaviate)
    try:
        hits = search(client, Embedder(s.embed), s.weaviate.collection, req, s.search.alpha)
    finally:
        client.close()
    if as_json:
        click.echo("[" + ",".join(h.model_dump_json() for h in hits) + "]")
        return
    for i, h in enumerate(hits, 1):
        c = h.citation
        where = c.uri or c.doc_id or c.event_id
        click.echo(f"{i}. [{h.score:.3f}] {h.text[:200]}")
        click.echo(f"   cite: {h.kind} {where} chars {c.char_start}-{c.char_end} "
                   f"event_time {c.event_time} ({c.kafka_topic}/{c.kafka_partition}@{c.kafka_offset})")


@main.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
def serve(host: str | None, port: int | None) -> None:
    """Serve the search API (POST /v1/search, docs at /docs)."""
    import uvicorn

    from streams.api import create_api

    s = Settings()
    uvicorn.run(create_api(s), host=host or s.search.api_host, port=port or s.search.api_port)


@main.group()
def schemas() -> None:
    """Event schemas."""


@schemas.command("export")
@click.option("--out", default="schemas/jsonschema", show_default=True, type=click.Path())
def schemas_export(out: str) -> None:
    """Write one JSON Schema per topic, for non-Python producers and Kafka Connect."""
    from streams.schema_export import export

    for path in export(Settings().topics, out):
        click.echo(path)


@main.command()
@click.option("--rate", default=20.0, show_default=True, help="Background events per second.")
@click.option("--every", default=4.0, show_default=True, help="Seconds between planted facts.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: Ctrl-C).")
@_friendly
def demo(rate: float, every: float, duration: float | None) -> None:
    """Stack + worker + real data streaming in + live questions answered within seconds."""
    from streams.demo import run

    sys.exit(run(Settings(), rate=rate, every_s=every, duration_s=duration))


@main.command()
@click.option("--docs", default=8, show_default=True, help="wiki100 articles in the document workload.")
@click.option("--app-events", default=600, show_default=True, help="jeopardy records in the app workload.")
@click.option("--freshness-seconds", default=30.0, show_default=True)
@click.option("--curation", "curation_only", is_flag=True, help="Measure curation cost and gain instead.")
@_friendly
def bench(docs: int, app_events: int, freshness_seconds: float, curation_only: bool) -> None:
    """Embedding ceiling vs pipeline throughput, freshness percentiles, worker peak RSS."""
    from streams import bench as b
    from streams import stack
    from streams.stack.process import port_open

    s = Settings()
    if not port_open("127.0.0.1", s.kafka.port):
        stack.up(s)
    if curation_only:
        b.run_curation(s)
        return
    b.run(s, docs=docs, app_events=app_events, freshness_s=freshness_seconds)


@main.group()
def curation() -> None:
    """What curation kept out of the index, and why."""


@curation.command("report")
@click.option("--events", "show", default=0, help="Also list the last N audit records.")
def curation_report(show: int) -> None:
    """Drops by reason and kind, redactions by label and kind, from the audit topic."""
    from collections import deque

    from streams.audit import read_audit, summarize

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


def _register() -> None:
    from streams.cli_connect import connect
    from streams.cli_connect_bench import bench as connect_bench
    from streams.cli_ingest import connect_http, connect_mqtt, ingest

    connect.add_command(connect_bench)
    connect.add_command(connect_http)
    connect.add_command(connect_mqtt)
    main.add_command(connect)
    main.add_command(ingest)


_register()
