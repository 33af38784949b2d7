"""ONNX export in the DA-MoE Inspector routing contract (docs/model-contract.md)."""
from __future__ import annotations

import json
import os
import tempfile

import torch

from .model import MoEClassifier, expert_flops_per_token

CONTRACT_VERSION = 1
OUTPUT_NAMES = ["logits", "token_importance", "expert_count", "expert_gates", "router_probs"]
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
    def __init__(self, model: MoEClassifier):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        o = self.model(input_ids, attention_mask)
        return o.logits, o.importance, o.expert_count, o.expert_gates, o.router_probs


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
        "definition": "attention received: per head, the sum over the sentence's non-pad query rows of the same "
                      f"block's self-attention probabilities (a multiple of uniform attention); {heads}; "
                      + norms[r.importance_norm],
        "normalization": r.importance_norm,
        "heads": r.importance_heads,
    }
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
        "contract_version": CONTRACT_VERSION,
        "router_kind": r.kind,
        "num_layers": cfg.num_layers,
        "num_experts": cfg.num_experts,
        "labels": list(labels),
        "tokenizer": tokenizer_file,
        "max_sequence_length": cfg.max_seq_len,
        "expert_flops_per_token": expert_flops_per_token(cfg),
        "gates": "renormalized-top-k" if r.renormalize_gates else "router-probability",
    }
    meta["importance"] = importance_metadata(model)
    if r.kind == "da-moe":
        meta["k_max"] = r.k_max
    else:
        meta["k"] = r.k
    return meta


def export(model: MoEClassifier, path: str, labels, pad_id: int = 0) -> dict:
    """Exports the sparse-dispatch graph with dynamic batch and sequence axes; writes atomically."""
    import onnx

    # The exporter restores the wrapper's own training flag afterwards, recursively; a wrapper left in training
    # mode would switch dropout back on in `model` for everything that runs after the export.
    wrapper = _ContractOutputs(model).eval()
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, pad_id, pad_id]], dtype=torch.int64)
    mask = (ids != pad_id).to(torch.int64)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".onnx")
    os.close(fd)
    try:
        dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
               "logits": {0: "batch"}}
        for name in OUTPUT_NAMES[1:]:
            dyn[name] = {1: "batch", 2: "sequence"}
        torch.onnx.register_custom_op_symbolic("aten::index_add", _index_add, OPSET)
        with torch.no_grad():
            torch.onnx.export(wrapper, (ids, mask), tmp, input_names=["input_ids", "attention_mask"],
                              output_names=OUTPUT_NAMES, dynamic_axes=dyn, opset_version=OPSET,
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
