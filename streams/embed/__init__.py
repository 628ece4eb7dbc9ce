"""Stage embed: backends behind one :class:`~streams.embed.base.Embedder` protocol, and a cache."""

from __future__ import annotations

from streams.embed.base import Embedder
from streams.settings import EmbedSettings


def load(settings: EmbedSettings) -> Embedder:
    """The configured backend with the configured model (default: the bundled all-MiniLM-L6-v2)."""
    from streams.embed.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings)


__all__ = ["Embedder", "load"]
