"""``headwater query`` and ``headwater serve``: hybrid search with citations, on the CLI or over HTTP.

``query`` asks a running ``headwater serve`` first (``settings.search.api_host/api_port``,
``POST /v1/search``): its model is loaded already, so the answer takes a fraction of a
second. Without a server it searches in-process and starts fast: heavy modules are
imported only on this path, and the model (ONNX Runtime, no torch) loads in a thread while the
Weaviate client is imported and connects. In-process, the caller is ``--key``'s principal in the
local key store, filtered as the API filters it; without a key only what the whole tenant may read.
``--json`` prints the same JSON array either way: the hits exactly as ``POST /v1/search``
returns them (``Hit`` in ``streams/retrieve/search.py``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import click

from streams.settings import SearchSettings, Settings

# Hits are plain JSON dicts here: parsing them into ``Hit`` would import weaviate (about 2 s) on the fast path.
JsonHit = dict[str, Any]


@click.command()
@click.argument("text")
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--tenant", default="default", show_default=True)
@click.option("--kind", type=click.Choice(["sensor", "app", "document"]))
@click.option("--source")
@click.option("--entity")
@click.option("--alpha", type=click.FloatRange(0.0, 1.0), help="0 = BM25 only, 1 = vector only (default: setting).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of hits, as POST /v1/search returns them.")
@click.option("--local", is_flag=True, help="Search in this process even when `headwater serve` answers; "
              "with --key it finds what that key's principal may read, without one only what the whole tenant "
              "may read.")
@click.option("--key", envvar="HEADWATER_AUTH__KEY", help="API key ($HEADWATER_AUTH__KEY): sent to `headwater "
              "serve`, or looked up in the local key store for an in-process search.")
def query(text: str, k: int, tenant: str, kind: str | None, source: str | None, entity: str | None,
          alpha: float | None, as_json: bool, local: bool, key: str | None) -> None:
    """Hybrid search with citations (through a running `headwater serve` when one answers)."""
    s = Settings()
    body = {"query": text, "tenant": tenant, "k": k, "alpha": alpha, "kind": kind, "source": source,
            "entity_id": entity}
    body = {key: value for key, value in body.items() if value is not None}
    hits = None if local else ask_server(s.search, body, key=key)
    if hits is None:
        hits = search_here(s, body, key)
    if as_json:
        click.echo(json.dumps(hits, ensure_ascii=False))
        return
    for line in format_hits(hits):
        click.echo(line)


def ask_server(search: SearchSettings, body: dict[str, Any], timeout_s: float = 30.0,
               key: str | None = None) -> list[JsonHit] | None:
    """The hits from a running ``headwater serve``; None when none answers there (search locally then)."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    request = urllib.request.Request(  # noqa: S310 - http URL built from settings, never from user text
        f"http://{search.api_host}:{search.api_port}/v1/search", data=json.dumps(body).encode(),
        headers=headers, method="POST")
    # No proxy: the search API is a local service; an http_proxy meant for the internet must not see it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout_s) as resp:
            hits = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        exc.close()
        if exc.code == 422:  # our own request was refused: searching locally would refuse it too
            raise click.UsageError(f"the search API refused the request: {detail}") from None
        if exc.code in (401, 403, 429):  # the server's access rules: never fall back around them
            raise click.ClickException(f"the search API refused the key ({exc.code}): {detail}; pass --key or "
                                       "set HEADWATER_AUTH__KEY (see `headwater keys create`)") from None
        return None  # another service on that port, or a server error: the local search says what is wrong
    except (OSError, ValueError):
        return None  # nothing listens there (connection refused), or it is not our API
    return hits if isinstance(hits, list) else None


def search_here(s: Settings, body: dict[str, Any], key: str | None = None) -> list[JsonHit]:
    """Search in this process, with the API's reader filter: connect, skip the model when the tenant has
    nothing, else embed and search.

    The caller is ``key``'s principal in the local key store (its tenant rule and reader tags, as
    ``POST /v1/search`` applies them); without a key, only chunks the whole tenant may read are found;
    with ``auth.anonymous``, every chunk.
    """
    from concurrent.futures import ThreadPoolExecutor

    # numpy edits the warning filters when first imported, and pydantic (building weaviate's models)
    # saves and restores them: done in two threads at once, our filters of quiet() were lost.
    import numpy  # noqa: F401

    # The model loads beside the weaviate import and connect: its file reads and the ONNX session's
    # set-up release the GIL. Leaving the block waits for it, so no load outlives the command.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-load") as pool:
        model = pool.submit(_load_model, s)
        from pydantic import ValidationError

        from streams.retrieve.search import SearchRequest

        try:
            req = SearchRequest(**body)
        except ValidationError as exc:
            raise click.UsageError(str(exc.errors()[0]["msg"])) from None
        req, readers = _local_scope(s, req, key)
        client = _connect(s)
        try:
            if not _has_data(client, s.weaviate.collection, req.tenant):
                return []
            hits = _search(client, model.result(), s, req, readers)
        finally:
            client.close()
    return [h.model_dump(mode="json") for h in hits]


def _search(client: Any, embedder: Any, s: Settings, req: Any, readers: list[str] | None) -> Any:
    from weaviate.exceptions import WeaviateQueryError

    from streams.retrieve.search import search

    try:
        return search(client, embedder, s.weaviate.collection, req, s.search.alpha, readers)
    except WeaviateQueryError as exc:
        if "readers" in str(exc):
            raise click.ClickException(
                f"collection {s.weaviate.collection!r} was written before document readers existed (it has no "
                "'readers' property), so it cannot be searched with a reader filter: replay its events into a new "
                "collection (HEADWATER_WEAVIATE__COLLECTION), or for a local demo set "
                "HEADWATER_AUTH__ANONYMOUS=true") from None
        raise click.ClickException(f"Weaviate refused the search: {exc.message}") from None


def _load_model(s: Settings) -> Any:
    from streams import embed

    return embed.load(s.embed, s.stack.cache_dir)


def _local_scope(s: Settings, req: Any, key: str | None) -> tuple[Any, list[str] | None]:
    """The request with the tenant the caller may search, and its reader tags (None: no filter)."""
    from streams.auth import Denied, key_store
    from streams.retrieve.scope import search_scope

    principal = None
    if key and not s.auth.anonymous:
        store = key_store(s)
        principal = store.lookup(key)
        if principal is None:
            raise click.ClickException(f"the key (--key / HEADWATER_AUTH__KEY) is not in the key store {store.path}: "
                                       "check it with `headwater keys list`, or search without one")
    try:
        tenant, readers = search_scope(principal, req.tenant, anonymous=s.auth.anonymous)
    except Denied as denied:
        raise click.ClickException(f"{denied.reason} (HTTP {denied.status} at `headwater serve`)") from None
    return req.model_copy(update={"tenant": tenant}), readers


def _connect(s: Settings) -> Any:
    from weaviate.exceptions import WeaviateBaseError

    from connectors.weaviate.client import connect

    try:
        return connect(s.weaviate)
    except WeaviateBaseError:
        raise click.ClickException(
            f"cannot reach Weaviate at {s.weaviate.host}:{s.weaviate.http_port}: start it (`headwater stack up`) "
            "or set HEADWATER_WEAVIATE__HOST") from None


def _has_data(client: Any, collection: str, tenant: str) -> bool:
    """False when nothing was ever indexed for ``tenant``: the answer is empty, no model needed."""
    if not client.collections.exists(collection):
        return False
    return bool(client.collections.use(collection).tenants.exists(tenant))


def format_hits(hits: list[JsonHit]) -> list[str]:
    """Two lines per hit: rank, score and text; then the citation back to the source event."""
    lines = []
    for i, h in enumerate(hits, 1):
        c = h["citation"]
        where = c["uri"] or c["doc_id"] or c["event_id"]
        lines.append(f"{i}. [{h['score']:.3f}] {h['text'][:200]}")
        lines.append(f"   cite: {h['kind']} {where} chars {c['char_start']}-{c['char_end']} "
                     f"event_time {c['event_time']} ({c['kafka_topic']}/{c['kafka_partition']}@{c['kafka_offset']})")
    return lines


@click.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
def serve(host: str | None, port: int | None) -> None:
    """Serve the search API (POST /v1/search, docs at /docs)."""
    import uvicorn

    from streams.retrieve.api import create_api

    s = Settings()
    uvicorn.run(create_api(s), host=host or s.search.api_host, port=port or s.search.api_port)
