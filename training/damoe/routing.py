"""Routers: DA-MoE (K per token from attention importance) and fixed top-k (k=1 is Switch).

Every function works on flattened tokens [N, ...] with a `valid` mask, so pads get K = 0 and no compute.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import RouterConfig


def token_importance(attn: torch.Tensor, mask: torch.Tensor, norm: str) -> torch.Tensor:
    """Attention each token receives, averaged over heads and non-pad query rows, normalised per sequence.

    attn: [B, H, T, T] softmax probabilities (query, key); mask: [B, T] with 1 for real tokens.
    Returns [B, T], 0 on pads.
    """
    m = mask.to(attn.dtype)
    b, h, t, _ = attn.shape
    # Sum over heads and real query rows as one batched vector-matrix product ([B, 1, H*T] @ [B, H*T, T]), then the
    # mean over heads: the same figure as attn.mean(1) masked and summed over queries, without a strided reduction.
    received = (m.repeat(1, h).unsqueeze(1) @ attn.reshape(b, h * t, t)).squeeze(1) / h  # [B, T]
    received = received / m.sum(dim=1, keepdim=True).clamp(min=1.0)
    received = received * m
    if norm == "max":
        scale = received.max(dim=1, keepdim=True).values
    elif norm == "mean":
        scale = received.sum(dim=1, keepdim=True) / m.sum(dim=1, keepdim=True).clamp(min=1.0)
    else:  # "sum"
        scale = received.sum(dim=1, keepdim=True)
    return received / scale.clamp(min=1e-12)


def experts_per_token(importance: torch.Tensor, mask: torch.Tensor, cfg: RouterConfig) -> torch.Tensor:
    """K_t = clamp(ceil(k_scale * k_max * importance_t), 1, k_max) on real tokens, 0 on pads. int64."""
    if cfg.kind == "da-moe":
        k = torch.ceil(importance * (cfg.k_scale * cfg.k_max)).clamp(1, cfg.k_max)
    else:
        k = torch.full_like(importance, float(cfg.k))
    return (k * mask.to(k.dtype)).to(torch.int64)


@dataclass
class Routing:
    probs: torch.Tensor      # [N, E] router softmax
    k: torch.Tensor          # [N] int64 experts per token
    gates: torch.Tensor      # [N, E] gate of each chosen expert, 0 elsewhere
    chosen: torch.Tensor     # [N, E] 1.0 where an expert was chosen


def route(logits: torch.Tensor, k: torch.Tensor, cfg: RouterConfig) -> Routing:
    """Top-K_t experts per token from router logits [N, E]; K_t from `k` [N]."""
    probs = torch.softmax(logits, dim=-1)
    slots = cfg.max_experts_per_token
    top_p, top_i = probs.topk(slots, dim=-1)
    slot_on = (torch.arange(slots, device=k.device).unsqueeze(0) < k.unsqueeze(1)).to(probs.dtype)
    gate_vals = top_p * slot_on
    if cfg.renormalize_gates:
        gate_vals = gate_vals / gate_vals.sum(dim=-1, keepdim=True).clamp(min=1e-12)
    zeros = torch.zeros_like(probs)
    gates = zeros.scatter(1, top_i, gate_vals)
    chosen = zeros.scatter(1, top_i, slot_on)
    return Routing(probs=probs, k=k, gates=gates, chosen=chosen)


def balance_loss(r: Routing, valid: torch.Tensor) -> torch.Tensor:
    """Switch-style load balancing: E * sum_e f_e * P_e over real tokens.

    f_e: share of all expert assignments that went to e; P_e: mean router probability of e.
    """
    v = valid.to(r.probs.dtype).unsqueeze(1)
    num_experts = r.probs.shape[1]
    f = (r.chosen * v).sum(0) / (r.chosen * v).sum().clamp(min=1.0)
    p = (r.probs * v).sum(0) / v.sum().clamp(min=1.0)
    return num_experts * (f * p).sum()
