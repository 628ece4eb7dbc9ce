"""HTTP search API: ``POST /v1/search``; OpenAPI docs at ``/docs``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from streams.auth import key_store
from streams.retrieve.guard import Checked, SearchGuard
from streams.retrieve.search import Hit, search
from streams.settings import Settings


def create_api(settings: Settings, guard: SearchGuard | None = None) -> FastAPI:
    """The search app; ``guard`` (default: keys from the settings' key store) checks every search."""
    state: dict[str, Any] = {}
    guard = guard or SearchGuard(settings, key_store(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        from connectors.weaviate.client import connect
        from streams import embed

        state["embedder"] = embed.load(settings.embed, settings.stack.cache_dir)
        state["client"] = connect(settings.weaviate)
        yield
        state["client"].close()

    app = FastAPI(title="Headwater search", version="1", lifespan=lifespan)

    def collection_exists() -> bool:
        # Until the worker wrote its first batch there is no collection: nothing to find, as for a new tenant.
        # Only a "yes" is kept: the collection appears later, it does not disappear under a running server.
        if not state.get("collection_exists"):
            state["collection_exists"] = bool(state["client"].collections.exists(settings.weaviate.collection))
        return bool(state["collection_exists"])

    # A default, not Annotated[...]: with postponed annotations FastAPI cannot see the local `guard`.
    guarded = Depends(guard.dependency)

    @app.post("/v1/search", response_model=list[Hit])
    async def search_endpoint(checked: Checked = guarded) -> list[Hit]:
        """Hybrid search over one tenant's fresh index; each hit cites its source event.

        Nothing indexed yet (no collection, or a tenant never written to) is ``[]``, not an error.
        """
        if not await run_in_threadpool(collection_exists):
            return []
        req, readers = checked  # the key decided the tenant and the readers before anything was read
        return await run_in_threadpool(search, state["client"], state["embedder"],
                                       settings.weaviate.collection, req, settings.search.alpha, readers)

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ready": bool(state["client"].is_ready())}

    return app
