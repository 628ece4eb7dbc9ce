"""``headwater query`` and ``headwater serve``: hybrid search with citations, on the CLI or over HTTP."""

from __future__ import annotations

import click

from streams.settings import Settings


@click.command()
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
    from connectors.weaviate.client import connect
    from streams import embed
    from streams.retrieve.search import SearchRequest, search

    s = Settings()
    req = SearchRequest(query=text, tenant=tenant, k=k, alpha=alpha, kind=kind, source=source, entity_id=entity)
    client = connect(s.weaviate)
    try:
        hits = search(client, embed.load(s.embed), s.weaviate.collection, req, s.search.alpha)
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


@click.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
def serve(host: str | None, port: int | None) -> None:
    """Serve the search API (POST /v1/search, docs at /docs)."""
    import uvicorn

    from streams.retrieve.api import create_api

    s = Settings()
    uvicorn.run(create_api(s), host=host or s.search.api_host, port=port or s.search.api_port)
