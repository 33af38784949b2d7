"""ONNX export in the DA-MoE Inspector routing contract (docs/model-contract.md)."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile

import torch

from .model import MoEClassifier, expert_flops_per_token

CONTRACT_VERSION = 1
# Causal LMs (task "causal-lm") are contract version 2.
CAUSAL_CONTRACT_VERSION = 2
ROUTING_OUTPUTS = ["token_importance", "expert_count", "expert_gates", "router_probs"]
OUTPUT_NAMES = ["logits"] + ROUTING_OUTPUTS
# A causal LM's in-graph next-token outputs: [B, T, V] logits never leave the graph.
NEXT_TOKEN_OUTPUTS = ["token_loss", "next_token_topk_ids", "next_token_topk_logprobs"]
CAUSAL_OUTPUT_NAMES = NEXT_TOKEN_OUTPUTS + ROUTING_OUTPUTS
# Full-logits variant (small vocabularies; the inspector's worker reduces them): logits [B, T, V].
CAUSAL_LOGITS_OUTPUT_NAMES = ["logits"] + ROUTING_OUTPUTS
NEXT_TOKEN_TOP_K = 5
OPSET = 17


def _index_add(g, self, dim, index, source, alpha=None):
    """aten::index_add(dim 0) as ScatterND with reduction "add".

    torch 1.13 exports index_add (and index_put with accumulate=True) as a read, add and overwrite, which keeps only
    one of duplicate indices. MoELayer adds every expert's output for a token with one index_add, so a token with
    K experts appears K times and the additions must all happen.
    """
    from torch.onnx import symbolic_helper

    if symbolic_helper._maybe_get_const(dim, "i") != 0:
        raise RuntimeError("the DA-MoE export supports index_add on dim 0 only")
    if alpha is not None and symbolic_helper._maybe_get_const(alpha, "f") not in (None, 1, 1.0):
        raise RuntimeError("the DA-MoE export supports index_add with alpha 1 only")
    rows = g.op("Unsqueeze", index, g.op("Constant", value_t=torch.tensor([1], dtype=torch.int64)))
    return g.op("ScatterND", self, rows, source, reduction_s="add")


class _ContractOutputs(torch.nn.Module):
    def __init__(self, model: MoEClassifier, dense: bool = False):
        super().__init__()
        self.model = model
        self.dense = dense

    def forward(self, input_ids, attention_mask):
        o = self.model(input_ids, attention_mask, dense=self.dense)
        return o.logits, o.importance, o.expert_count, o.expert_gates, o.router_probs


class _CausalLmOutputs(torch.nn.Module):
    """token_loss [B, T] (column t: -log p(x_t | x_<t), column 0 and pads 0), the top-k next-token ids and
    log-probabilities [B, T, k] at every position, and the routing outputs."""

    def __init__(self, model: MoEClassifier, k: int = NEXT_TOKEN_TOP_K, dense: bool = False):
        super().__init__()
        self.model, self.k, self.dense = model, k, dense

    def forward(self, input_ids, attention_mask):
        from .lm import token_losses
        o = self.model(input_ids, attention_mask, dense=self.dense)
        logp = torch.log_softmax(o.logits, dim=-1)
        top = logp.topk(self.k, dim=-1)
        loss = token_losses(o.logits, input_ids, attention_mask)
        return loss, top.indices, top.values, o.importance, o.expert_count, o.expert_gates, o.router_probs


class _CausalLogitsOutputs(torch.nn.Module):
    def __init__(self, model: MoEClassifier):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        o = self.model(input_ids, attention_mask)
        return o.logits, o.importance, o.expert_count, o.expert_gates, o.router_probs


def _received_definition(r) -> str:
    if r.received_correction == "uniform-causal":
        return ("attention received under the causal mask: per head, the sum over the sentence's non-pad query "
                "rows (only queries at or after the token see it) divided by what the token would receive if every "
                "query attended uniformly to the tokens it can see (sum over q >= j of 1/(q+1)), so 1 is uniform "
                "causal attention and early tokens are not favoured for being visible to more queries")
    if r.received_correction == "visible-queries":
        return ("attention received under the causal mask: per head, the mean over the real query rows that can see "
                "the token (the sum divided by T_real - j)")
    return ("attention received: per head, the sum over the sentence's non-pad query rows of the same block's "
            "self-attention probabilities (a multiple of uniform attention)")


def importance_metadata(model: MoEClassifier) -> dict:
    """How token_importance and K were made, with the constants of this model (shown to the user as given).

    The rule itself is defined in config.py (RouterConfig) and routing.py; this only describes it."""
    r = model.cfg.router
    heads = "the largest over heads" if r.importance_heads == "max" else "the mean over heads"
    norms = {
        "mean": "divided by its mean over the sentence's real tokens",
        "max": "divided by its largest value in the sentence",
        "sum": "divided by its sum over the sentence",
        "corpus": "divided by its running mean over the training corpus (corpus_mean, one per layer)",
    }
    info = {
        "definition": f"{_received_definition(r)}; {heads}; " + norms[r.importance_norm],
        "normalization": r.importance_norm,
        "heads": r.importance_heads,
    }
    if r.received_correction != "none":
        info["received_correction"] = r.received_correction
    if r.importance_norm == "corpus":
        info["corpus_mean"] = [round(float(b.k_rule.corpus_mean), 6) for b in model.blocks]
    if r.kind != "da-moe":
        info["definition"] += " (reported only; K is fixed)"
        return info
    info["k_scale"] = r.k_scale
    if r.k_calibration == "mean-k":
        thresholds = [float(b.k_rule.k_threshold) for b in model.blocks]
        info["k_rule"] = (f"K = clamp(ceil(s_layer * importance), 1, k_max); pads K = 0; s_layer calibrated in "
                          f"training so that the mean K of real tokens is {r.target_mean_k}")
        info["k_calibration"] = {"method": "mean-k", "target_mean_k": r.target_mean_k,
                                 "s_per_layer": [round(t, 6) for t in thresholds]}
    else:
        info["k_rule"] = "K = clamp(ceil(k_scale * k_max * importance), 1, k_max); pads K = 0"
    return info


def contract_metadata(model: MoEClassifier, labels, tokenizer_file: str = "tokenizer.json") -> dict:
    cfg, r = model.cfg, model.cfg.router
    meta = {
        "contract_version": CAUSAL_CONTRACT_VERSION if model.causal else CONTRACT_VERSION,
        "router_kind": r.kind,
        "num_layers": cfg.num_layers,
        "num_experts": cfg.num_experts,
    }
    if model.causal:
        meta["task"] = "causal-lm"
    else:
        meta["labels"] = list(labels)
    meta.update({
        "tokenizer": tokenizer_file,
        "max_sequence_length": cfg.max_seq_len,
        "expert_flops_per_token": expert_flops_per_token(cfg),
        "gates": "renormalized-top-k" if r.renormalize_gates else "router-probability",
    })
    meta["importance"] = importance_metadata(model)
    if r.kind == "da-moe":
        meta["k_max"] = r.k_max
    else:
        meta["k"] = r.k
    return meta


def export(model: MoEClassifier, path: str, labels=(), pad_id: int = 0, full_logits: bool = False,
           dense: bool = False) -> dict:
    """Exports the sparse-dispatch graph with dynamic batch and sequence axes; writes atomically.

    A causal LM exports token_loss and the top-5 next-token outputs in-graph, or with `full_logits` its [B, T, V]
    logits instead (fine for small vocabularies: the inspector's worker reduces them). `dense` (see export_gpu)
    exports dense-masked expert compute instead of the sparse dispatch."""
    import onnx

    # The exporter restores the wrapper's own training flag afterwards, recursively; a wrapper left in training
    # mode would switch dropout back on in `model` for everything that runs after the export.
    if dense and full_logits:
        raise ValueError("the dense (GPU) graph of a causal LM is exported with its in-graph loss and top-k outputs")
    if not model.causal:
        wrapper, names = _ContractOutputs(model, dense=dense).eval(), OUTPUT_NAMES
    elif full_logits:
        wrapper, names = _CausalLogitsOutputs(model).eval(), CAUSAL_LOGITS_OUTPUT_NAMES
    else:
        wrapper, names = _CausalLmOutputs(model, dense=dense).eval(), CAUSAL_OUTPUT_NAMES
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, pad_id, pad_id]], dtype=torch.int64)
    mask = (ids != pad_id).to(torch.int64)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".onnx")
    os.close(fd)
    try:
        dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
        for name in names:
            dyn[name] = {1: "batch", 2: "sequence"} if name in ROUTING_OUTPUTS else (
                {0: "batch", 1: "sequence"} if model.causal else {0: "batch"})
        torch.onnx.register_custom_op_symbolic("aten::index_add", _index_add, OPSET)
        with torch.no_grad():
            torch.onnx.export(wrapper, (ids, mask), tmp, input_names=["input_ids", "attention_mask"],
                              output_names=names, dynamic_axes=dyn, opset_version=OPSET,
                              do_constant_folding=True)
        proto = onnx.load(tmp)
        meta = contract_metadata(model, labels)
        entry = proto.metadata_props.add()
        entry.key, entry.value = "moe.contract", json.dumps(meta)
        proto.producer_name = "damoe-training"
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return meta


GPU_GRAPH_FILE = "model.gpu.onnx"
GPU_GRAPH_KEY = "moe.gpu_graph"
# Initializers at least this large are read from model.onnx instead of being stored twice (smaller ones stay inline:
# scalars and shape constants, a few KiB in all).
SHARED_MIN_BYTES = 1024


def export_gpu(model: MoEClassifier, sparse_path: str, labels, pad_id: int = 0) -> dict:
    """Writes the GPU graph, model.gpu.onnx, next to the sparse graph at sparse_path (docs/model-contract.md).

    The same model with dense-masked expert compute (MoELayer dense=True): every expert on every token, weighted by
    its gate, so the graph has no NonZero (no WebGPU kernel) and no data-dependent shapes, and no int64 op on K
    (route float_slots). Its outputs equal the sparse graph's: the same gates and K, and the same sums (an expert
    that was not chosen adds exactly 0).

    Its weights are not stored twice: each initializer of at least SHARED_MIN_BYTES is ONNX external data whose
    location is model.onnx itself, at the offset where the sparse graph holds the same bytes (a tensor's raw_data
    is stored verbatim in the protobuf). An initializer found nowhere in model.onnx means that `model` is not the
    model that file was exported from, and is refused. The `moe.gpu_graph` metadata records model.onnx's SHA-256,
    so the inspector never pairs it with another model.onnx.
    """
    import onnx
    from onnx.external_data_helper import set_external_data

    with open(sparse_path, "rb") as f:
        sparse_bytes = f.read()
    sparse = onnx.load_from_string(sparse_bytes)
    contract = next((p.value for p in sparse.metadata_props if p.key == "moe.contract"), None)
    if contract is None:
        raise ValueError(f"{sparse_path} has no moe.contract metadata: export the sparse graph first")
    if json.loads(contract) != json.loads(json.dumps(contract_metadata(model, labels))):
        raise ValueError(f"{sparse_path}'s moe.contract differs from this model's: export both from the same run")
    info = {
        "expert_compute": "dense-masked",
        "sparse_graph": os.path.basename(sparse_path),
        "sparse_graph_sha256": hashlib.sha256(sparse_bytes).hexdigest(),
        "executed_expert_flops_per_token": model.cfg.num_experts * expert_flops_per_token(model.cfg),
    }
    directory = os.path.dirname(os.path.abspath(sparse_path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-gpu-", suffix=".onnx")
    os.close(fd)
    try:
        export(model, tmp, labels, pad_id=pad_id, dense=True)
        proto = onnx.load(tmp)
        for t in proto.graph.initializer:
            if len(t.raw_data) < SHARED_MIN_BYTES:
                continue
            offset = sparse_bytes.find(t.raw_data)
            if offset < 0:
                raise ValueError(f"initializer {t.name} {list(t.dims)} of the GPU graph is not in {sparse_path}: "
                                 "the checkpoint is not the one that file was exported from")
            set_external_data(t, location=info["sparse_graph"], offset=offset, length=len(t.raw_data))
            t.ClearField("raw_data")
            t.data_location = onnx.TensorProto.EXTERNAL
        entry = proto.metadata_props.add()
        entry.key, entry.value = GPU_GRAPH_KEY, json.dumps(info)
        onnx.save(proto, tmp)
        # The checker resolves external data relative to the file: here, model.onnx beside it.
        onnx.checker.check_model(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(directory, GPU_GRAPH_FILE))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return info
