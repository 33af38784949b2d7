"""Recording routing traces of a Hugging Face MoE model with forward hooks (the writer of the "Hugging Face hooks"
format, docs/routing-traces.md; read by `damoe trace` and DA-MoE: Open Routing Trace). No transformers import: the
model is any module tree laid out as transformers' modelling files are (damoe/hf_export.py finds the routers), so
training/tests drives it with stand-in modules.

A trace file is JSONL: line 1 the header (format, version, model, and the routing keys of the model contract's
moe.contract from damoe/hf_config.py: num_layers, num_experts, k, router, shared_experts, dense_layers), then one
line per sequence: input_ids, prompt_tokens (the tokens before the generated ones), router_logits as
{"dtype": "float32", "shape": [L, T, E], "data": base64 of little-endian float32}, and optional prompt / label.
"""
import base64
import json

import numpy as np
import torch

from . import hf_config
from .hf_export import correction_bias, moe_blocks, router_logits

FORMAT = "damoe-hf-router-logits"
VERSION = 1
ROUTING_KEYS = ("num_layers", "num_experts", "k", "router", "shared_experts", "dense_layers")


def header(config, model_name=None, model=None):
    """The header line for a parsed config.json: the routing keys the reader's deriveRouting needs. With `model`, a
    grouped sigmoid router's e_score_correction_bias (weights, not config) goes into `router` too."""
    meta = hf_config.contract_metadata(config)
    out = {"format": FORMAT, "version": VERSION, "model": model_name}
    out.update({k: meta[k] for k in ROUTING_KEYS if k in meta})
    if model is not None and out["router"]["convention"] == "sigmoid-group-topk":
        out["router"] = {**out["router"], "e_score_correction_bias": correction_bias(moe_blocks(model, hf_config.dense_layers(config)))}
    return out


def record_router_logits(model, config, input_ids):
    """[L, T, E] float32 router logits of each MoE layer for one sequence (input_ids: [T] or [1, T]). The model runs
    its own forward; a forward pre-hook on each MoE block recomputes its router's logits from the block's input (as
    damoe/hf_export.py does: this works where the router returns no logits, e.g. DeepSeek-V3)."""
    ids = torch.as_tensor(input_ids).reshape(1, -1)
    blocks = moe_blocks(model, hf_config.dense_layers(config))
    seen = []
    # The hook is on the MoE block, whose input is the router's input in every family (some stand-ins and forks
    # call F.linear with the router's weight instead of the router module itself).
    handles = [block.register_forward_pre_hook(lambda mod, inputs, _r=router: seen.append(router_logits(_r, inputs[0]).detach()))
               for _, block, router in blocks]
    try:
        with torch.no_grad():
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
    finally:
        for h in handles:
            h.remove()
    if len(seen) != len(blocks):
        raise RuntimeError(f"recorded {len(seen)} router calls for {len(blocks)} MoE layers: the forward ran a router "
                           "more or less than once (record one sequence per forward, without a cache)")
    T = ids.shape[1]
    return torch.stack([s.reshape(T, -1) for s in seen], 0).float()


def record_line(input_ids, logits, prompt_tokens=None, prompt=None, label=None):
    """One sequence line (a dict; json.dumps it)."""
    ids = [int(i) for i in torch.as_tensor(input_ids).reshape(-1).tolist()]
    arr = np.ascontiguousarray(logits.detach().cpu().numpy().astype("<f4"))
    if arr.ndim != 3 or arr.shape[1] != len(ids):
        raise ValueError(f"router logits of shape {arr.shape} do not fit {len(ids)} tokens (expected [L, T, E])")
    line = {"input_ids": ids, "prompt_tokens": len(ids) if prompt_tokens is None else int(prompt_tokens),
            "router_logits": {"dtype": "float32", "shape": list(arr.shape), "data": base64.b64encode(arr.tobytes()).decode("ascii")}}
    if prompt is not None:
        line["prompt"] = prompt
    if label is not None:
        line["label"] = label
    return line


def write_trace(path, head, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(head) + "\n")
        for line in lines:
            f.write(json.dumps(line) + "\n")
