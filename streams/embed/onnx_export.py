"""Stage embed, ONNX export: a sentence-transformers directory -> cached ``model.onnx`` / ``model-int8.onnx``.

Exported once from the installed weights (no model hub) and kept under
``<cache_dir>/onnx/<model id>-<fingerprint>/``; the fingerprint changes when the
model's config or weights change, so a new model is exported again, and a reinstall of
the same model is not. Files are written under a temporary name and renamed, so a crash
never leaves half a model behind. A plain BERT in safetensors (the default model) is
written as an ONNX graph directly (:mod:`streams.embed.onnx_bert`: no torch needed); any
other encoder is traced with torch (``pip install 'headwater[torch]'``).

Only what the ONNX backend reproduces exactly is accepted: a Transformer module,
mean pooling, optionally Normalize (vectors are always normalised).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.embed.base import ModelUnavailable
from streams.observe.console import say

# Bump when the exported graph changes (inputs, outputs, opset): old caches are then ignored.
EXPORT_VERSION = "4"
OPSET = 17
SUPPORTED = {"Transformer", "Pooling", "Normalize"}


@dataclass(frozen=True)
class ModelLayout:
    """What the export and the runtime read from a sentence-transformers model directory."""

    name: str  # as in model ids and cache folders: "all-MiniLM-L6-v2"
    root: Path
    transformer: Path  # folder with config.json, the weights and tokenizer.json
    max_seq_length: int  # tokens per text including [CLS] and [SEP]; longer texts are truncated


def _unsupported(root: Path, what: str) -> ModelUnavailable:
    return ModelUnavailable(f"{root}: {what}; the ONNX backends cannot reproduce it, "
                            "set HEADWATER_EMBED__BACKEND=torch")


def layout(root: Path, name: str) -> ModelLayout:
    """Reads modules.json, sentence_bert_config.json and the pooling config of ``root`` (the model ``name``).

    Raises:
        ModelUnavailable: A module or pooling mode the ONNX backend does not implement, or no tokenizer.json.
    """
    modules = json.loads((root / "modules.json").read_text())
    paths = {m["type"].rsplit(".", 1)[-1]: root / m["path"] for m in modules}
    if extra := set(paths) - SUPPORTED:
        raise _unsupported(root, f"modules {sorted(extra)}")
    if "Transformer" not in paths or "Pooling" not in paths:
        raise _unsupported(root, "no Transformer or Pooling module")
    pooling = json.loads((paths["Pooling"] / "config.json").read_text())
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
    if modes != ["pooling_mode_mean_tokens"]:
        raise _unsupported(root, f"pooling {modes}")
    transformer = paths["Transformer"]
    if not (transformer / "tokenizer.json").exists():
        raise _unsupported(root, "no tokenizer.json (a fast tokenizer)")
    return ModelLayout(name, root, transformer, _max_seq_length(transformer))


def _max_seq_length(transformer: Path) -> int:
    # As sentence-transformers: sentence_bert_config.json, else what the model and tokenizer allow.
    st = transformer / "sentence_bert_config.json"
    if st.exists() and (n := json.loads(st.read_text()).get("max_seq_length")):
        return int(n)
    config = json.loads((transformer / "config.json").read_text())
    tok = transformer / "tokenizer_config.json"
    limits = [config.get("max_position_embeddings"), json.loads(tok.read_text()).get("model_max_length")
              if tok.exists() else None]
    return min([int(n) for n in limits if n] or [256])


def fingerprint(model: ModelLayout) -> str:
    """Changes when the model's configs or weights change, not when the same files are installed again.

    Weights are hashed by content (~0.2 s for MiniLM's 90 MB): a fresh virtual environment, CI's
    for one, reinstalls the model with new file times, and must find its export in the cache.
    """
    h = hashlib.sha256(EXPORT_VERSION.encode())
    for p in sorted(model.root.rglob("*.json")):
        h.update(p.relative_to(model.root).as_posix().encode() + p.read_bytes())
    for p in sorted(model.transformer.glob("*")):
        if p.suffix in {".safetensors", ".bin", ".pt"}:
            with p.open("rb") as f:
                h.update(p.name.encode() + hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()[:16]


def exported(model: ModelLayout, cache_dir: Path, quantized: bool) -> Path:
    """The path of the exported (``quantized``: int8) model, exporting it first when it is missing.

    Idempotent and crash-safe: an existing file is never rewritten; two processes exporting
    at once each write their own temporary file and the last rename wins (same content).
    """
    folder = cache_dir / "onnx" / f"{model.name}-{fingerprint(model)}"
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    target = int8 if quantized else fp32
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    say(f"[embed] exporting {model.name} to ONNX{' int8' if quantized else ''} (first time only) ...")
    with _quiet():
        if not fp32.exists():
            _atomic(fp32, lambda tmp: _export_fp32(model, tmp))
        if quantized:
            _atomic(int8, lambda tmp: _quantize(fp32, tmp))
    _prune(folder)
    return target


def _prune(keep: Path, spare: int = 1) -> None:
    """Removes older exports of the same model name but the ``spare`` newest (~120 MB each).

    Before exports were keyed by content, every reinstall made a new one; a worker of another
    version that still uses one loaded it into memory at start, and would export again.
    """
    name = keep.name.rsplit("-", 1)[0]
    others = sorted((p for p in keep.parent.glob(f"{name}-*")
                     if p != keep and p.is_dir() and p.name.rsplit("-", 1)[0] == name),  # not "<name>-large-..."
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[spare:]:
        shutil.rmtree(old, ignore_errors=True)


def _atomic(target: Path, write: Any) -> None:
    # The temporary name keeps the .onnx suffix: onnx tools derive side files from it.
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No tracer warnings, progress bars or library log lines during an export: one progress line is enough."""
    loggers = [logging.getLogger(n) for n in ("", "transformers", "torch.onnx", "onnxruntime")]
    levels = [lg.level for lg in loggers]
    # onnxruntime.quantization warns through logging.warning(), which would install a stderr
    # handler on an unconfigured root logger (logging.basicConfig) for the rest of the process.
    guard = logging.NullHandler()
    logging.getLogger().addHandler(guard)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logging.getLogger().removeHandler(guard)
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def _export_fp32(model: ModelLayout, out: Path) -> None:
    """The encoder's graph; output: token embeddings (pooling stays outside the graph, in numpy).

    A plain BERT is written directly; any other model is traced with torch on CPU, and a traced
    BERT has its blocks fused.
    """
    from streams.embed import onnx_bert

    if onnx_bert.describes(model.transformer):
        onnx_bert.write(model.transformer, out)
    else:
        _traced_fp32(model, out)


def _traced_fp32(model: ModelLayout, out: Path) -> None:
    """``torch.onnx.export`` of the model, then onnxruntime's BERT fusions when it is a BERT."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "traced.onnx"
        config = _trace(model, raw)
        if config.get("model_type") != "bert":  # the fusions below are checked on BERT encoders only
            shutil.move(raw, out)  # the temporary folder may be on another file system
            return
        from onnxruntime.transformers.optimizer import optimize_model

        # Attention, embedding and layer-norm fusions (the session's own optimizer does not fuse
        # attention); vectors unchanged, cosine 1.0000 to torch, int8 on top of it is faster too.
        fused = optimize_model(str(raw), model_type="bert", num_heads=int(config["num_attention_heads"]),
                               hidden_size=int(config["hidden_size"]))
        fused.save_model_to_file(str(out))


def _trace(model: ModelLayout, out: Path) -> dict[str, Any]:
    """``torch.onnx.export`` (TorchScript tracer: no onnxscript needed) of ``last_hidden_state``; the HF config."""
    import inspect

    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelUnavailable(f"{model.root}: exporting this model to ONNX needs torch: pip install "
                           "'headwater[torch]' (or HEADWATER_EMBED__BACKEND=torch, which needs it too)") from exc
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    class TokenEmbeddings(torch.nn.Module):
        # Defined here: torch is imported only when a model is exported, never by a worker that runs one.
        def __init__(self, hf: Any, names: list[str]) -> None:
            super().__init__()
            self.hf, self.names = hf, names

        def forward(self, *inputs: Any) -> Any:
            return self.hf(**dict(zip(self.names, inputs, strict=True))).last_hidden_state

    # Eager attention traces to plain MatMul/Softmax, which the attention fusion recognises (SDPA does not).
    hf = AutoModel.from_pretrained(str(model.transformer), attn_implementation="eager").eval()
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
             if n in inspect.signature(hf.forward).parameters]
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]}
    with torch.no_grad():
        torch.onnx.export(TokenEmbeddings(hf, names), example, str(out), dynamo=False, opset_version=OPSET,
                          input_names=names, output_names=["token_embeddings"], dynamic_axes=axes)
    config: dict[str, Any] = hf.config.to_dict()
    return config


def _quantize(fp32: Path, out: Path) -> None:
    """Dynamic int8 weights, per output channel, except the feed-forward down-projections.

    Measured on wiki100 chunks and the jeopardy question -> answer set (2-core AVX2 CPU):
    per-tensor int8 gave mean cosine 0.94; all weights per channel 0.9936, but question -> answer
    recall@1 fell 1.9 points; keeping the down-projections in fp32 (their inputs, the GELU
    outputs, have the widest range) gives 0.9964 (min 0.993) and 0.6 points. 7-bit weights
    (reduce_range): CPUs without VNNI saturate int16 sums of 8-bit products.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = _down_projections(onnx.load(str(fp32), load_external_data=False))
    # DefaultTensorType: shape inference cannot type the outputs of fused (contrib) operators.
    quantize_dynamic(str(fp32), str(out), per_channel=True, reduce_range=True, weight_type=QuantType.QInt8,
                     nodes_to_exclude=keep, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _down_projections(graph_model: Any) -> list[str]:
    """MatMul nodes whose weight shrinks its input (d_in > d_out): in a BERT, the feed-forward outputs."""
    shapes = {w.name: list(w.dims) for w in graph_model.graph.initializer}
    return [n.name for n in graph_model.graph.node if n.op_type == "MatMul"
            and any(len(shapes.get(i, [])) == 2 and shapes[i][0] > shapes[i][1] for i in n.input)]
