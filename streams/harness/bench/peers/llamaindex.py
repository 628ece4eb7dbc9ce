"""Peer for ``headwater bench --peers``: LlamaIndex's ``IngestionPipeline`` into its Weaviate vector store.

LlamaIndex is not a Kafka system: the bench reads the documents from the topic first
(untimed) and hands them over in memory. The pipeline cuts them with its own
``SentenceSplitter`` (200 tokens, overlap 32, counted by our model's tokenizer, so the
token budget is the same as Headwater's) and embeds through :class:`HeadwaterEmbedding`,
a thin adapter over the one shared embedder. Needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from llama_index.core import Document
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.vector_stores.weaviate import WeaviateVectorStore
from pydantic import PrivateAttr

from streams.embed.base import Embedder
from streams.settings import Settings


class HeadwaterEmbedding(BaseEmbedding):
    """LlamaIndex's embedding interface over a Headwater :class:`~streams.embed.base.Embedder`."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, batch: int = 128) -> None:
        super().__init__(model_name=embedder.model_id, embed_batch_size=batch)
        self._embedder = embedder

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._embedder.encode(texts).tolist()
        return vectors

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)


def splitter(embedder: Embedder, settings: Settings) -> SentenceSplitter:
    count = embedder.token_counter()
    max_tokens = min(settings.chunk.max_tokens, embedder.max_tokens)
    # The splitter only asks len() of what the tokenizer returns: a range of the model's count is enough.
    return SentenceSplitter(chunk_size=max_tokens, chunk_overlap=min(settings.chunk.overlap_tokens, max_tokens // 2),
                            tokenizer=lambda text: range(count(text)), include_metadata=False)


def ingest(docs: Sequence[tuple[str, str]], client: Any, collection: str, embedder: Embedder,
           settings: Settings, timeout_s: float = 600) -> tuple[int, float]:
    """Run the pipeline over ``(doc_id, text)`` pairs; (chunks, seconds until all are counted in Weaviate)."""
    from streams.harness.bench.peers.kafka import count

    store = WeaviateVectorStore(weaviate_client=client, index_name=collection, text_key="text")
    pipeline = IngestionPipeline(transformations=[splitter(embedder, settings), HeadwaterEmbedding(embedder)],
                                 vector_store=store)
    documents = [Document(text=text, id_=doc_id, metadata={"doc_id": doc_id}) for doc_id, text in docs]
    start = time.monotonic()
    nodes = pipeline.run(documents=documents)
    while count(client, collection) < len(nodes):
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"llamaindex: {count(client, collection)}/{len(nodes)} nodes in {collection} "
                               f"after {timeout_s:.0f} s; check Weaviate's log")
        time.sleep(0.05)
    return len(nodes), time.monotonic() - start
