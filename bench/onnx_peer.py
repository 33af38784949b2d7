"""The PyTorch peer of a shipped model, rebuilt from the model's own model.onnx (no training checkpoint needed).

The ONNX initializers are mapped back onto training/damoe/model.py's MoEClassifier state dict:
- named initializers (`model.tok.weight`, `model.blocks.N.attn.out.weight`, the experts, the head) as they are;
- LayerNorms from their `LayerNormalization` nodes' inputs (the export shares equal initializers between them, by Identity);
- the fused q/k/v projection, which the export folds into three Gemm weights (`/model/blocks.N/attn/Gemm`,
  `Gemm_1`, `Gemm_2`, transB=1), concatenated back into `blocks.N.attn.qkv`;
- the router, exported as a MatMul by a transposed weight (`/model/blocks.N/moe/router/MatMul`), transposed back.
The model configuration comes from the initializer shapes and the graph (num_heads from the attention's 1/sqrt(dh)
scale), the router configuration from the `moe.contract` metadata (training/damoe/export_onnx.py writes it), and the
KRule buffers (`corpus_mean`, `k_threshold`) from the metadata where the rule uses them, refined to the exact float32
constant that the graph carries in `/model/blocks.N/k_rule/` when one matches.
"""
import json
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class OnnxPeerError(Exception):
    pass


def _router_config(meta: dict) -> dict:
    imp = meta.get("importance", {})
    kind = meta["router_kind"]
    r = {"kind": kind, "renormalize_gates": meta.get("gates") == "renormalized-top-k"}
    if imp.get("normalization"):
        r["importance_norm"] = imp["normalization"]
    if imp.get("heads"):
        r["importance_heads"] = imp["heads"]
    if imp.get("received_correction"):
        r["received_correction"] = imp["received_correction"]
    if kind == "da-moe":
        r["k_max"] = int(meta["k_max"])
        if "k_scale" in imp:
            r["k_scale"] = float(imp["k_scale"])
        cal = imp.get("k_calibration")
        if cal:
            r["k_calibration"] = cal["method"]
            if "target_mean_k" in cal:
                r["target_mean_k"] = float(cal["target_mean_k"])
    else:
        r["k"] = int(meta["k"])
    return r


def _scalar_constants(graph, prefix: str):
    """Float scalar constants (and scalar float initializers) of the nodes under `prefix`."""
    from onnx import numpy_helper

    out = []
    for n in graph.node:
        if n.op_type == "Constant" and n.name.startswith(prefix):
            for a in n.attribute:
                if a.name == "value":
                    v = numpy_helper.to_array(a.t)
                    if v.size == 1 and v.dtype.kind == "f":
                        out.append(float(v.reshape(())))
    return out


def _exact(graph, prefix: str, rounded: float) -> float:
    """The graph's own constant under `prefix` that the metadata's rounded value names (rounding is 1e-6)."""
    for c in _scalar_constants(graph, prefix):
        if abs(c - rounded) <= 1e-6 * max(1.0, abs(rounded)):
            return c
    return rounded


def model_from_onnx(onnx_path: str):
    """Returns (model in eval mode, ModelConfig, contract metadata) rebuilt from `onnx_path`."""
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper

    sys.path.insert(0, os.path.join(ROOT, "training"))
    from damoe.config import ModelConfig
    from damoe.model import MoEClassifier

    proto = onnx.load(onnx_path)
    g = proto.graph
    meta_entries = {p.key: p.value for p in proto.metadata_props}
    if "moe.contract" not in meta_entries:
        raise OnnxPeerError(f"{onnx_path} has no moe.contract metadata")
    meta = json.loads(meta_entries["moe.contract"])
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    nodes = {n.name: n for n in g.node}
    for n in g.node:  # constants the export left as Constant nodes rather than initializers
        if n.op_type == "Constant" and n.output[0] not in init:
            for a in n.attribute:
                if a.name == "value":
                    init[n.output[0]] = numpy_helper.to_array(a.t)

    identities = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity"}

    def resolve(name: str):
        seen = 0
        while name not in init and name in identities and seen < 16:  # the export shares equal weights by Identity
            name, seen = identities[name], seen + 1
        return init.get(name)

    def weight_of(node_name: str, index: int):
        n = nodes.get(node_name)
        value = resolve(n.input[index]) if n is not None and len(n.input) > index else None
        if value is None:
            raise OnnxPeerError(f"{onnx_path}: no weight for {node_name} input {index} (not a training/damoe export?)")
        return value, n

    if "model.tok.weight" not in init:
        raise OnnxPeerError(f"{onnx_path}: no model.tok.weight initializer (not a training/damoe export?)")
    vocab, d = init["model.tok.weight"].shape
    layers, experts = int(meta["num_layers"]), int(meta["num_experts"])
    scales = [c for c in _scalar_constants(g, "/model/blocks.0/attn/") if c > 1]
    if not scales:
        raise OnnxPeerError(f"{onnx_path}: no attention scale constant in /model/blocks.0/attn/")
    dh = int(round(scales[0] ** 2))
    if dh < 1 or d % dh:
        raise OnnxPeerError(f"{onnx_path}: attention scale {scales[0]} does not give a head size dividing {d}")
    causal = meta.get("task") == "causal-lm"  # no head: the LM's logits are the tied embedding's
    if not causal and "model.head.weight" not in init:
        raise OnnxPeerError(f"{onnx_path}: no model.head.weight initializer (not a training/damoe classifier?)")
    cfg = ModelConfig(vocab_size=int(vocab), d_model=int(d), num_heads=int(d // dh), num_layers=layers,
                      num_experts=experts, expert_hidden=int(init["model.blocks.0.moe.experts.0.fc1.weight"].shape[0]),
                      max_seq_len=int(init["model.pos.weight"].shape[0]),
                      num_labels=2 if causal else int(init["model.head.weight"].shape[0]), dropout=0.0,
                      task="causal-lm" if causal else "sequence-classification")
    cfg_dict = cfg.to_dict()
    cfg_dict["router"] = {**cfg_dict["router"], **_router_config(meta)}
    cfg = ModelConfig.from_dict(cfg_dict)
    model = MoEClassifier(cfg).eval()

    own = model.state_dict()
    state = {}
    for name, value in init.items():
        if name.startswith("model.") and name[len("model."):] in own:
            state[name[len("model."):]] = value
    for i in range(layers):
        ws, bs = [], []
        for j, suffix in enumerate(["", "_1", "_2"]):
            w, n = weight_of(f"/model/blocks.{i}/attn/Gemm{suffix}", 1)
            trans_b = next((a.i for a in n.attribute if a.name == "transB"), 0)
            ws.append(w if trans_b else w.T)
            bs.append(weight_of(f"/model/blocks.{i}/attn/Gemm{suffix}", 2)[0])
        state[f"blocks.{i}.attn.qkv.weight"] = np.concatenate(ws, 0)
        state[f"blocks.{i}.attn.qkv.bias"] = np.concatenate(bs, 0)
        w, _ = weight_of(f"/model/blocks.{i}/moe/router/MatMul", 1)
        state[f"blocks.{i}.moe.router.weight"] = w.T
    # LayerNorms by their nodes: the export shares identical initializers (e.g. untrained weights of ones), so a
    # LayerNorm's parameters may carry another module's name.
    lns = [(f"blocks.{i}.{ln}", f"/model/blocks.{i}/{ln}") for i in range(layers) for ln in ("ln1", "ln2")]
    for ln, scope in lns + [("ln", "/model/ln")]:
        scope += "/LayerNormalization"
        if scope in nodes:
            state[f"{ln}.weight"] = weight_of(scope, 1)[0]
            state[f"{ln}.bias"] = weight_of(scope, 2)[0]
    # KRule buffers where the rule uses them: the graph's own initializer when the export kept it by name (exact),
    # else the metadata's value (rounded to 1e-6), made exact from a matching constant under /model/blocks.N/k_rule/;
    # the defaults where the rule does not use them.
    imp = meta.get("importance", {})
    cal = imp.get("k_calibration") or {}
    for i in range(layers):
        used = {
            "corpus_mean": imp.get("corpus_mean") if cfg.router.importance_norm == "corpus" else None,
            "k_threshold": cal.get("s_per_layer") if cfg.router.kind == "da-moe" and cfg.router.k_calibration == "mean-k" else None,
        }
        for buf in ("corpus_mean", "k_threshold", "updates"):
            key = f"blocks.{i}.k_rule.{buf}"
            if key in state:
                continue
            values = used.get(buf)
            if values is not None:
                state[key] = np.float32(_exact(g, f"/model/blocks.{i}/k_rule/", float(values[i])))
            else:
                state[key] = own[key].numpy()
    missing = set(own) - set(state)
    extra = set(state) - set(own)
    if missing or extra:
        raise OnnxPeerError(f"{onnx_path}: state dict mismatch: missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}")
    tensors = {}
    for k, v in state.items():
        t = torch.from_numpy(np.array(v, copy=True))
        tensors[k] = t.to(own[k].dtype).reshape(own[k].shape)
    model.load_state_dict(tensors)
    model.eval()
    return model, cfg, meta
