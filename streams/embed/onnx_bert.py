"""Stage embed, ONNX graph of a BERT encoder written from its safetensors weights: no torch, no tracing.

The graph is the one ``torch.onnx.export`` followed by onnxruntime's BERT fusions produces
(``EmbedLayerNormalization``, then per layer ``Attention``, ``SkipLayerNormalization`` and
``BiasGelu`` from the ``com.microsoft`` domain, the dense layers as ``MatMul``), written
directly: the same operators on the same weights, so the same vectors (cosine 1.0000 to
torch) and the same speed, and a new install needs neither torch nor transformers for
the default model. Models this does not describe exactly (another architecture, relative
positions, another activation, weights not in safetensors) are traced with torch instead
(:mod:`streams.embed.onnx_export`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17
MS = "com.microsoft"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "token_embeddings"


def describes(transformer: Path) -> bool:
    """Whether :func:`write` reproduces the model in ``transformer`` exactly (a plain BERT in safetensors)."""
    config = json.loads((transformer / "config.json").read_text())
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (transformer / "model.safetensors").exists())


def write(transformer: Path, out: Path) -> None:
    """The fused encoder graph of ``transformer`` (inputs :data:`INPUTS`, int64; output :data:`OUTPUT`)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    config = json.loads((transformer / "config.json").read_text())
    w = _unprefixed(load_file(str(transformer / "model.safetensors")))
    eps, heads = float(config.get("layer_norm_eps", 1e-12)), int(config["num_attention_heads"])
    weights: dict[str, np.ndarray] = {}

    def weight(name: str, value: np.ndarray) -> str:
        weights[name] = np.ascontiguousarray(value, dtype=np.float32)
        return name

    def dense(prefix: str) -> str:  # a Linear's weight as MatMul wants it: [in, out]
        return weight(f"{prefix}.weight", w[f"{prefix}.weight"].T)

    def norm(prefix: str) -> list[str]:
        return [weight(f"{prefix}.{p}", w[f"{prefix}.{p}"]) for p in ("weight", "bias")]

    nodes = [helper.make_node("Cast", [n], [f"{n}_int32"], to=TensorProto.INT32) for n in INPUTS]
    e = "embeddings"
    nodes.append(helper.make_node(
        "EmbedLayerNormalization",
        ["input_ids_int32", "token_type_ids_int32", weight(f"{e}.word", w[f"{e}.word_embeddings.weight"]),
         weight(f"{e}.position", w[f"{e}.position_embeddings.weight"]),
         weight(f"{e}.token_type", w[f"{e}.token_type_embeddings.weight"]), *norm(f"{e}.LayerNorm"),
         "attention_mask_int32"],
        ["hidden_0", "mask_index"], domain=MS, epsilon=eps))
    hidden = "hidden_0"
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        qkv = [f"{p}.attention.self.{n}" for n in ("query", "key", "value")]
        wqkv = weight(f"{p}.qkv.weight", np.concatenate([w[f"{n}.weight"].T for n in qkv], axis=1))
        bqkv = weight(f"{p}.qkv.bias", np.concatenate([w[f"{n}.bias"] for n in qkv]))
        last = i == int(config["num_hidden_layers"]) - 1
        nodes += [
            helper.make_node("Attention", [hidden, wqkv, bqkv, "mask_index"], [f"{p}.context"],
                             domain=MS, num_heads=heads),
            helper.make_node("MatMul", [f"{p}.context", dense(f"{p}.attention.output.dense")],
                             [f"{p}.attention.projected"]),
            helper.make_node("SkipLayerNormalization",
                             [f"{p}.attention.projected", hidden, *norm(f"{p}.attention.output.LayerNorm"),
                              weight(f"{p}.attention.output.dense.bias", w[f"{p}.attention.output.dense.bias"])],
                             [f"{p}.attended"], domain=MS, epsilon=eps),
            helper.make_node("MatMul", [f"{p}.attended", dense(f"{p}.intermediate.dense")], [f"{p}.up"]),
            helper.make_node("BiasGelu", [f"{p}.up", weight(f"{p}.intermediate.dense.bias",
                                                            w[f"{p}.intermediate.dense.bias"])],
                             [f"{p}.activated"], domain=MS),
            helper.make_node("MatMul", [f"{p}.activated", dense(f"{p}.output.dense")], [f"{p}.down"]),
            helper.make_node("SkipLayerNormalization",
                             [f"{p}.down", f"{p}.attended", *norm(f"{p}.output.LayerNorm"),
                              weight(f"{p}.output.dense.bias", w[f"{p}.output.dense.bias"])],
                             [OUTPUT if last else f"{p}.out"], domain=MS, epsilon=eps),
        ]
        hidden = f"{p}.out"
    for node in nodes:  # named: quantization picks and leaves out nodes by name
        node.name = node.output[0]
    axes = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes, "bert_encoder",
        [helper.make_tensor_value_info(n, TensorProto.INT64, axes) for n in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [*axes, int(config["hidden_size"])])],
        initializer=[numpy_helper.from_array(v, name) for name, v in weights.items()])
    model: Any = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                         helper.make_opsetid(MS, 1)])
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def _unprefixed(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # Checkpoints saved from a task model (BertForMaskedLM, ...) name the encoder "bert.<...>".
    if "embeddings.word_embeddings.weight" in weights:
        return weights
    return {k.removeprefix("bert."): v for k, v in weights.items()}
