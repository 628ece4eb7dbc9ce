"""Stage embed, ONNX Runtime backend: the torch backend's model and vectors, without torch at run time.

Input: texts. Output: one L2-normalised float32 vector per text, as
:class:`~streams.embed.sentence_transformers.SentenceTransformerEmbedder` computes
it: the same tokenizer (``tokenizer.json``), truncation window (``max_seq_length``),
mean pooling over the attention mask and normalisation, in length-sorted batches.
``onnx-int8`` runs int8 weights (per channel, feed-forward outputs kept fp32); its vectors differ slightly, so its
``model_id`` differs too and the embedding cache never mixes them with fp32 ones.

The ONNX files are exported once per model (:mod:`streams.embed.onnx_export`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from streams.embed.base import ModelUnavailable, default_model_dir, model_name
from streams.embed.onnx_export import ModelLayout, exported, layout
from streams.settings import EmbedSettings

log = logging.getLogger("headwater.embed")

# A forward pass pads every text to its longest: at least this share of its columns are real tokens.
PAD_FILL = 0.75


def model_dir(model: str | None) -> Path:
    """A local model directory: the path itself, the bundled default, or a model already in the HF cache."""
    if model is None:
        return default_model_dir()
    if Path(model).is_dir():
        return Path(model)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any lookup failure means "not here"; the message says what to do
        raise ModelUnavailable(f"model {model!r} is not a local directory nor in the Hugging Face cache: "
                         "download it first, or set HEADWATER_EMBED__BACKEND=torch") from exc


class OnnxEmbedder:
    """Thread-safe: one encode at a time (onnxruntime already uses every core)."""

    def __init__(self, settings: EmbedSettings, cache_dir: Path) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        quantized = settings.backend == "onnx-int8"
        started = time.monotonic()
        self.model: ModelLayout = layout(model_dir(settings.model), model_name(settings.model))
        self.session = _session(exported(self.model, cache_dir, quantized), settings)
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        self.max_tokens = self.model.max_seq_length - 2  # room for [CLS] and [SEP], as the torch backend
        self.model_id = f"{self.model.name}+{settings.backend}"
        self.batch_size = settings.batch_size
        self._tokenizer = _tokenizer(self.model, truncate=True)
        self._counter = _tokenizer(self.model, truncate=False)
        self._forward_calls = 0
        self._lock = threading.Lock()
        log.info("embedding model %s loaded (onnxruntime, %s) in %.1fs", self.model_id,
                 self.session.get_providers()[0], time.monotonic() - started)

    @property
    def forward_calls(self) -> int:
        return self._forward_calls

    def warm_up(self) -> None:
        self.encode(["warm up " * n for n in (4, 32, 128)] * 4)

    def token_counter(self) -> Callable[[str], int]:
        tok = self._counter

        def count(text: str) -> int:
            return len(tok.encode(text, add_special_tokens=False).ids)

        return count

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not len(texts):
            return out
        with self._lock:
            self._forward_calls += 1
            # One tokenization of every text, padded to the longest; each forward pass then takes texts
            # of like token counts (sorted by tokens, not characters) and only its own longest's columns.
            encodings = self._tokenizer.encode_batch(list(texts))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            lengths = mask.sum(axis=1)
            order = np.argsort(-lengths, kind="stable")
            for part in slices(lengths[order], self.batch_size):
                idx = order[part]
                width = int(lengths[idx[0]])
                out[idx] = self._forward(ids[idx, :width], mask[idx, :width], types[idx, :width])
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        (tokens,) = self.session.run(["token_embeddings"], {k: feeds[k] for k in self.inputs})
        return normalize(mean_pool(np.asarray(tokens, dtype=np.float32), mask))


def slices(lengths: np.ndarray, batch_size: int, min_fill: float = PAD_FILL) -> list[slice]:
    """Forward passes over token ``lengths`` sorted longest first: at most ``batch_size`` rows each,
    and a pass ends before a text shorter than ``min_fill`` of its first (longest), which sets its width.

    A fixed count of rows pads a long tail: in a batch of app events of 40 to 60 tokens and one of
    170, the pass holding the 170 was padded to 32 x 170 and took 40 % of the batch's model time.
    """
    out, start = [], 0
    for i in range(1, len(lengths) + 1):
        if i == len(lengths) or i - start == batch_size or lengths[i] < min_fill * lengths[start]:
            out.append(slice(start, i))
            start = i
    return out


def mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors the attention mask keeps (sentence-transformers' mean pooling)."""
    weights = mask[:, :, None].astype(np.float32)
    return np.asarray((tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9), dtype=np.float32)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Unit length per row (torch's F.normalize: eps 1e-12 keeps a zero vector zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _tokenizer(model: ModelLayout, truncate: bool) -> Any:
    """The fast tokenizer; tokenizer.json's own fixed padding and 128-token truncation are replaced."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model.transformer / "tokenizer.json"))
    padding = tok.padding or {"pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}
    tok.no_padding()
    tok.no_truncation()
    if truncate:
        # Pad to the longest text of each batch; cut at the model's window, special tokens included.
        tok.enable_truncation(max_length=model.max_seq_length)
        tok.enable_padding(pad_id=padding["pad_id"], pad_type_id=padding["pad_type_id"],
                           pad_token=padding["pad_token"])
    return tok


def _session(path: Path, settings: EmbedSettings) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), session_options(settings), providers=_providers(settings.device))


def session_options(settings: EmbedSettings) -> Any:
    """ONNX Runtime's options from the settings: intra-op threads, spin-waiting, quiet logs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.threads or settings.torch_threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1  # one graph at a time; the intra-op threads do the work
    # Spinning threads hold both cores between passes, which Kafka, Weaviate and the worker's own
    # threads need: on 2 cores, the same encode alone, and faster beside them (README: "Embedding backends").
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if settings.spin_wait else "0")
    options.log_severity_level = 3  # errors only: no initializer or provider notices on stderr
    return options


def _providers(device: str) -> list[Any]:
    import onnxruntime as ort

    if not device.startswith("cuda"):
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        index = int(device.partition(":")[2] or 0)
        return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
    log.warning("device %s asked for, but this onnxruntime has no CUDAExecutionProvider (pip install "
                "onnxruntime-gpu, or HEADWATER_EMBED__BACKEND=torch): embedding on the CPU", device)
    return ["CPUExecutionProvider"]
