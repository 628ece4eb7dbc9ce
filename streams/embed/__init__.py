"""Stage embed: backends behind one :class:`~streams.embed.base.Embedder` protocol, and a cache."""

from __future__ import annotations

from pathlib import Path

from streams.embed.base import Embedder
from streams.settings import EmbedSettings


def load(settings: EmbedSettings, cache_dir: Path | None = None) -> Embedder:
    """The configured backend (``settings.backend``) with the configured model (default: all-MiniLM-L6-v2).

    Args:
        settings: Model, backend, device, batch size, threads.
        cache_dir: Where the ONNX backends keep their exported models (``<cache_dir>/onnx``): pass
            ``settings.stack.cache_dir``, so ``HEADWATER_STACK__CACHE_DIR`` is honoured; without it the
            default location (``$XDG_CACHE_HOME/headwater``), whatever the environment says.
    """
    if settings.backend == "torch":
        from streams.embed.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(settings)
    from streams.embed.onnx import OnnxEmbedder
    from streams.settings import StackSettings

    return OnnxEmbedder(settings, cache_dir or StackSettings().cache_dir)


__all__ = ["Embedder", "load"]
