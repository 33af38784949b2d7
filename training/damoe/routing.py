"""Routers: DA-MoE (K per token from attention importance) and fixed top-k (k=1 is Switch).

This file and `RouterConfig` (config.py) are where the K rule is defined. The exported graph computes K from them;
the TypeScript inspector never recomputes K, it only checks the model's outputs against the contract.

Every function works on flattened tokens [N, ...] with a `valid` mask, so pads get K = 0 and no compute.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import torch

from .config import RouterConfig


def causal_received_baseline(mask: torch.Tensor, correction: str) -> torch.Tensor:
    """What each key [B, T] is divided by under a causal mask (RouterConfig.received_correction).

    "visible-queries": the number of real queries that can see the key (T_real - j when right-padded);
    "uniform-causal": the attention the key would receive if every real query attended uniformly to the keys it can
    see (sum over real q >= j of 1 / (q + 1)). 1 on pads (they are zeroed afterwards)."""
    m = mask.to(torch.float32)
    t = m.shape[1]
    pos = torch.arange(t, device=mask.device)
    visible = (pos.view(1, t) <= pos.view(t, 1)).to(m.dtype)              # [q, j]: query q sees key j
    visible = visible.unsqueeze(0) * m.unsqueeze(2) * m.unsqueeze(1)       # real queries and keys only
    if correction == "uniform-causal":
        visible = visible / visible.sum(dim=2, keepdim=True).clamp(min=1.0)  # each query row sums to 1
    elif correction != "visible-queries":
        raise ValueError(f"unknown received_correction {correction!r}")
    return visible.sum(dim=1) + (1.0 - m)


def received_attention(attn: torch.Tensor, mask: torch.Tensor, heads: str = "mean",
                       correction: str = "none") -> torch.Tensor:
    """Attention each token receives from the real query rows, as a multiple of uniform attention.

    attn: [B, H, T, T] softmax probabilities (query, key); mask: [B, T] with 1 for real tokens.
    Per head, sum over real queries of attn[q, t] (= T_real * the mean over queries; 1.0 is what a token gets when
    every query attends uniformly), divided by `causal_received_baseline` unless `correction` is "none" (causal
    models: see RouterConfig.received_correction), then reduced over heads by `heads` ("mean" or "max").
    Returns [B, T], 0 on pads.
    """
    m = mask.to(attn.dtype)
    b, h, t, _ = attn.shape
    per_head = (m.view(b, 1, 1, t) @ attn).squeeze(2)  # [B, H, T]: one batched vector-matrix product
    if correction != "none":
        per_head = per_head / causal_received_baseline(mask, correction).to(attn.dtype).unsqueeze(1)
    per_head = per_head * m.unsqueeze(1)
    return per_head.amax(dim=1) if heads == "max" else per_head.mean(dim=1)


def normalise_importance(received: torch.Tensor, mask: torch.Tensor, norm: str,
                         corpus_mean: Optional[torch.Tensor] = None) -> torch.Tensor:
    """`received` [B, T] divided by its max / mean / sum over each sequence's real tokens, or by `corpus_mean`."""
    m = mask.to(received.dtype)
    if norm == "corpus":
        if corpus_mean is None:
            raise ValueError("importance_norm 'corpus' needs the running corpus mean")
        scale = corpus_mean
    elif norm == "max":
        scale = received.max(dim=1, keepdim=True).values
    elif norm == "mean":
        scale = received.sum(dim=1, keepdim=True) / m.sum(dim=1, keepdim=True).clamp(min=1.0)
    else:  # "sum"
        scale = received.sum(dim=1, keepdim=True)
    return received / scale.clamp(min=1e-12)


def token_importance(attn: torch.Tensor, mask: torch.Tensor, norm: str, heads: str = "mean",
                     corpus_mean: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Importance [B, T] of every token (0 on pads): received attention, normalised."""
    return normalise_importance(received_attention(attn, mask, heads), mask, norm, corpus_mean)


def experts_per_token(importance: torch.Tensor, mask: torch.Tensor, cfg: RouterConfig,
                      scale: Union[float, torch.Tensor, None] = None, dtype: torch.dtype = torch.int64) -> torch.Tensor:
    """K_t = clamp(ceil(s * importance_t), 1, k_max) on real tokens, 0 on pads; int64 (or `dtype`).

    s = k_scale * k_max unless a calibrated `scale` is given (k_calibration "mean-k").
    """
    if cfg.kind == "da-moe":
        s = cfg.k_scale * cfg.k_max if scale is None else scale
        k = torch.ceil(importance * s).clamp(1, cfg.k_max)
    else:
        k = torch.full_like(importance, float(cfg.k))
    return (k * mask.to(k.dtype)).to(dtype)


@torch.no_grad()
def scale_for_mean_k(importance: torch.Tensor, k_max: int, target: float, iters: int = 40) -> float:
    """The s at which mean(clamp(ceil(s * importance), 1, k_max)) over these (real-token) importances crosses
    `target`, by bisection in log space: mean K never decreases as s grows. importance: 1-D."""
    lo, hi = 1e-4, 1e4
    for _ in range(iters):
        mid = (lo * hi) ** 0.5
        mean_k = float(torch.ceil(importance * mid).clamp(1, k_max).mean())
        if mean_k < target:
            lo = mid
        else:
            hi = mid
    return (lo * hi) ** 0.5


@dataclass
class Routing:
    probs: torch.Tensor      # [N, E] router softmax
    k: torch.Tensor          # [N] int64 experts per token
    gates: torch.Tensor      # [N, E] gate of each chosen expert, 0 elsewhere
    chosen: torch.Tensor     # [N, E] 1.0 where an expert was chosen


def route(logits: torch.Tensor, k: torch.Tensor, cfg: RouterConfig, float_slots: bool = False) -> Routing:
    """Top-K_t experts per token from router logits [N, E]; K_t from `k` [N] (int64).

    float_slots: `k` is K in float32 (KRule float_k; Routing.k stays float32) and the slot ranks are compared with
    it in floating point: the same result (K <= k_max is exact in float32), but in the exported GPU graph the
    comparison (ONNX Less) then runs on the GPU provider. WebGPU has no int64 Less and no Cast from int64, so the
    int64 form copies K to the CPU and back in every MoE layer."""
    probs = torch.softmax(logits, dim=-1)
    slots = cfg.max_experts_per_token
    top_p, top_i = probs.topk(slots, dim=-1)
    ranks = torch.arange(slots, device=k.device).unsqueeze(0)
    if float_slots:
        slot_on = (ranks.to(probs.dtype) < k.unsqueeze(1)).to(probs.dtype)
    else:
        slot_on = (ranks < k.unsqueeze(1)).to(probs.dtype)
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


class KRule(torch.nn.Module):
    """One layer's importance and K, with the running statistics its rule keeps.

    Buffers (saved in checkpoints, constants in the exported graph): `corpus_mean`, the running mean of received
    attention over real training tokens (importance_norm "corpus"), and `k_threshold`, the calibrated s of
    K = clamp(ceil(s * importance), 1, k_max) (k_calibration "mean-k"). Both move only in training mode.
    """

    def __init__(self, cfg: RouterConfig):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("corpus_mean", torch.tensor(1.0))
        self.register_buffer("k_threshold", torch.tensor(float(cfg.k_scale * cfg.k_max)))
        self.register_buffer("updates", torch.tensor(0, dtype=torch.int64))

    @property
    def calibrated(self) -> bool:
        return self.cfg.kind == "da-moe" and self.cfg.k_calibration == "mean-k"

    def _fold(self, buf: torch.Tensor, value: torch.Tensor, log: bool = False) -> None:
        m = self.cfg.calibration_momentum if int(self.updates) > 0 else 1.0
        if log:
            buf.copy_(torch.exp((1 - m) * torch.log(buf) + m * torch.log(value)))
        else:
            buf.mul_(1 - m).add_(m * value)

    def forward(self, attn: torch.Tensor, mask: torch.Tensor, float_k: bool = False):
        """attn [B, H, T, T] (detached), mask [B, T] -> importance [B, T], K [B, T] int64 (float32 with float_k,
        for route's float_slots)."""
        cfg = self.cfg
        received = received_attention(attn, mask, cfg.importance_heads, cfg.received_correction)
        valid = mask.bool()
        learning = self.training and bool(valid.any())
        if learning and cfg.importance_norm == "corpus":
            with torch.no_grad():
                self._fold(self.corpus_mean, received[valid].mean())
        importance = normalise_importance(received, mask, cfg.importance_norm, self.corpus_mean)
        if learning and self.calibrated:
            s = scale_for_mean_k(importance[valid], cfg.k_max, cfg.target_mean_k)
            with torch.no_grad():
                self._fold(self.k_threshold, torch.tensor(s), log=True)
        if learning:
            self.updates += 1
        k = experts_per_token(importance, mask, cfg, self.k_threshold if self.calibrated else None,
                              dtype=torch.float32 if float_k else torch.int64)
        return importance, k
