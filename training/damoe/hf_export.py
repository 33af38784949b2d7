"""The torch half of training/export_hf.py, with no transformers import (so training/tests can drive it with small
stand-in modules named as transformers names them): find a Hugging Face model's MoE blocks, run each with dense
dispatch (every expert evaluated and mixed by the family's gates from damoe/hf_routers.py, so the traced ONNX graph
has no data-dependent control flow), record each block's router logits (F.linear of the router's input with its
weight and bias: this works where transformers returns no router_logits, e.g. DeepSeek-V3, transformers issue
#48911), and wrap the model so forward(input_ids, attention_mask) returns the contract's outputs.

Module layout it knows (transformers' modelling files): decoder layers at `<base>.layers` (base = model.model or
model.base_model); the MoE block at `layer.mlp` or `layer.block_sparse_moe` (Mixtral before 4.5x); its router at
`.gate` (Mixtral, Qwen2/3-MoE, OLMoE, DeepSeek-V3, GLM-4-MoE) or `.router` (GPT-OSS); routed experts at `.experts`;
shared experts at `.shared_expert` + `.shared_expert_gate` (Qwen2-MoE) or `.shared_experts` (DeepSeek).
"""
import torch
import torch.nn.functional as F
from torch import nn

from .hf_routers import sigmoid_group_topk, softmax_topk, switch_capacity, topk_softmax


class ExportError(RuntimeError):
    """The model's modules are not laid out as this exporter knows: the message names the module and what was expected."""


def decoder_layers(model):
    for base in (getattr(model, "model", None), getattr(model, "base_model", None), model):
        layers = getattr(base, "layers", None) if base is not None else None
        if isinstance(layers, nn.ModuleList):
            return layers
    raise ExportError(f"{type(model).__name__}: found no decoder layers (expected .model.layers or .base_model.layers)")


def router_of(block):
    for name in ("gate", "router"):
        r = getattr(block, name, None)
        if r is not None and isinstance(getattr(r, "weight", None), torch.Tensor) and r.weight.dim() == 2:
            return r
    return None


def moe_blocks(model, dense_layers):
    """[(decoder index, block, router)] of the MoE layers; checks they are exactly the non-dense layers."""
    found = []
    for i, layer in enumerate(decoder_layers(model)):
        for name in ("mlp", "block_sparse_moe"):
            block = getattr(layer, name, None)
            if block is not None and router_of(block) is not None:
                found.append((i, block, router_of(block)))
                break
    n = len(decoder_layers(model))
    expected = [i for i in range(n) if i not in set(dense_layers)]
    if [i for i, _, _ in found] != expected:
        raise ExportError(f"MoE blocks found in decoder layers {[i for i, _, _ in found]}, but config.json makes layers "
                          f"{expected} sparse (dense: {list(dense_layers)}); the model's modules do not match its config")
    return found


def router_logits(router, x):
    """[N, E] router logits from the router's input, as its forward computes them (bias included when it has one)."""
    bias = getattr(router, "bias", None)
    flat = x.reshape(-1, router.weight.shape[1])
    return F.linear(flat.float(), router.weight.float(), bias.float() if isinstance(bias, torch.Tensor) else None)


def gates_for(logits, router_meta, k, router, x_shape):
    """Dense gates [N, E] by the contract's router convention."""
    c = router_meta["convention"]
    if c in ("softmax-topk-renorm", "softmax-topk"):
        return softmax_topk(logits, k, c == "softmax-topk-renorm")[2]
    if c == "topk-softmax":
        return topk_softmax(logits, k)[1]
    if c == "sigmoid-group-topk":
        bias = getattr(router, "e_score_correction_bias", None)
        bias = bias.float() if isinstance(bias, torch.Tensor) else torch.zeros(logits.shape[1])
        return sigmoid_group_topk(logits, k, router_meta["n_group"], router_meta["topk_group"],
                                  router_meta["norm_topk_prob"], router_meta["routed_scaling_factor"], bias)[5]
    if c == "switch-capacity":
        return switch_capacity(logits.view(*x_shape[:-1], -1), router_meta["expert_capacity"])[2]
    raise ExportError(f"no dense dispatch for router convention {c!r}")


class Recorder:
    """Router logits of one forward pass, per MoE layer in order ([B, T, E] each)."""

    def __init__(self):
        self.logits = []

    def stacked(self):
        return torch.stack(self.logits, 0)


def install(model, blocks, router_meta, k, recorder):
    """Replaces each MoE block's forward by dense dispatch that records its router logits; returns an undo function.
    Blocks whose experts are not a ModuleList (GPT-OSS's fused experts, evaluated densely in eval mode already) keep
    their forward, and a pre-hook on the router records the logits."""
    undo = []
    for _, block, router in blocks:
        experts = getattr(block, "experts", None)
        if isinstance(experts, nn.ModuleList):
            original = block.forward
            probe = torch.zeros(1, 1, router.weight.shape[1], dtype=router.weight.dtype)
            with torch.no_grad():
                returns_tuple = isinstance(original(probe), tuple)

            def dense_forward(hidden_states, *args, _block=block, _router=router, _experts=experts,
                              _tuple=returns_tuple, **kwargs):
                shape = hidden_states.shape
                logits = router_logits(_router, hidden_states)
                recorder.logits.append(logits.view(*shape[:-1], -1))
                gates = gates_for(logits, router_meta, k, _router, shape)
                flat = hidden_states.reshape(-1, shape[-1])
                outs = torch.stack([e(flat) for e in _experts], dim=1)
                y = (gates.unsqueeze(-1).to(outs.dtype) * outs).sum(1)
                shared = getattr(_block, "shared_expert", None)
                if shared is None:
                    shared = getattr(_block, "shared_experts", None)
                if shared is not None:
                    s = shared(flat)
                    gate = getattr(_block, "shared_expert_gate", None)
                    if gate is not None:
                        s = torch.sigmoid(gate(flat)) * s
                    y = y + s
                y = y.view(shape)
                return (y, logits) if _tuple else y

            block.forward = dense_forward
            undo.append(lambda b=block: b.__dict__.pop("forward", None))
        else:
            handle = router.register_forward_pre_hook(
                lambda mod, inputs: recorder.logits.append(router_logits(mod, inputs[0]).view(*inputs[0].shape[:-1], -1)))
            undo.append(handle.remove)
    return lambda: [u() for u in undo]


class ContractWrapper(nn.Module):
    """forward(input_ids, attention_mask) -> the contract's outputs: causal-lm: token_loss [B, T],
    next_token_topk_ids [B, T, 5], next_token_topk_logprobs [B, T, 5], router_logits [L, B, T, E];
    sequence-classification: logits [B, C], router_logits."""

    def __init__(self, model, task, recorder, topk=5):
        super().__init__()
        self.model, self.task, self.recorder, self.topk = model, task, recorder, topk

    def forward(self, input_ids, attention_mask):
        self.recorder.logits = []
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, return_dict=True) \
            if self.task == "causal-lm" else self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        logits = out.logits.float()
        routed = self.recorder.stacked()
        if self.task == "sequence-classification":
            return logits, routed
        lp = torch.log_softmax(logits, dim=-1)
        # token_loss[:, t] = -log p(token t | tokens < t); position 0 has no prefix (0).
        nll = -lp[:, :-1].gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        token_loss = torch.cat([torch.zeros_like(nll[:, :1]), nll], dim=1)
        top = lp.topk(self.topk, dim=-1)
        return token_loss, top.indices, top.values, routed


def output_names(task):
    if task == "causal-lm":
        return ["token_loss", "next_token_topk_ids", "next_token_topk_logprobs", "router_logits"]
    return ["logits", "router_logits"]


def export(wrapper, task, path, sample_ids, opset=17):
    ids = torch.tensor([sample_ids], dtype=torch.long)
    names = output_names(task)
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
            "router_logits": {1: "batch", 2: "sequence"}}
    for n in names[:-1]:
        axes[n] = {0: "batch"} if task == "sequence-classification" else {0: "batch", 1: "sequence"}
    torch.onnx.export(wrapper, (ids, torch.ones_like(ids)), path, opset_version=opset,
                      input_names=["input_ids", "attention_mask"], output_names=names, dynamic_axes=axes)


def correction_bias(blocks):
    """[num MoE layers][E] e_score_correction_bias of grouped sigmoid routers (zeros where a router has none)."""
    rows = []
    for _, _, router in blocks:
        b = getattr(router, "e_score_correction_bias", None)
        rows.append([float(v) for v in b.detach().float()] if isinstance(b, torch.Tensor) else [0.0] * router.weight.shape[0])
    return rows
