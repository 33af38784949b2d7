"""Transformer whose FFN sublayers are MoE layers with sparse dispatch: an encoder classifier, or (task
"causal-lm") a causal next-token LM with the same blocks and routers."""
from __future__ import annotations

import math
from typing import List, NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .routing import KRule, Routing, balance_loss, route


class Expert(nn.Module):
    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class SelfAttention(nn.Module):
    """Multi-head self-attention that also returns its probabilities, which DA-MoE reads importance from."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, b: int, key_bias: torch.Tensor):
        """x: [b*t, d], the tokens of b sequences. Returns [b*t, d] and the probabilities [b, heads, t, t]."""
        # q, k, v from row blocks of the one qkv weight: each projection is one GEMM with its bias fused (ONNX Gemm),
        # with no split of a [b, t, 3, heads, dh] tensor afterwards. (The slice bounds are Python ints, so the
        # export folds the three weight blocks into constants.)
        w, bias, n = self.qkv.weight, self.qkv.bias, self.heads * self.dh
        q, k, v = (F.linear(x, w[i * n:(i + 1) * n], bias[i * n:(i + 1) * n]).view(b, -1, self.heads, self.dh)
                   .transpose(1, 2) for i in range(3))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh) + key_bias
        probs = torch.softmax(scores, dim=-1)
        y = (self.drop(probs) @ v).transpose(1, 2).reshape(-1, n)
        return self.out(y), probs


class MoELayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg.router
        self.router = nn.Linear(cfg.d_model, cfg.num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(cfg.d_model, cfg.expert_hidden) for _ in range(cfg.num_experts))

    def forward(self, x: torch.Tensor, k: torch.Tensor, dense: bool = False):
        """x: [N, d] tokens, k: [N] experts per token (float32 when dense, see route's float_slots). Sparse: expert
        FLOPs scale with sum(k). Dense: every expert runs on every token and its output is weighted by the gate, 0
        for the experts not chosen (the same sums, in the same expert order); export_onnx.export_gpu exports it as
        the GPU graph, which has no NonZero."""
        r = route(self.router(x), k, self.cfg, float_slots=dense)
        if dense:
            out = torch.zeros_like(x)
            for e, expert in enumerate(self.experts):
                out = out + expert(x) * r.gates[:, e:e + 1]
            return out, r
        # Every (expert, token) choice, ordered by expert: one NonZero and one row gather for all experts, then
        # the rows are cut into each expert's share (one Split), so each expert runs on its own tokens only.
        e_count = len(self.experts)  # a Python int, also while tracing
        pairs = torch.nonzero(r.chosen.t() > 0)                      # [M, 2]: (expert, token)
        rows = pairs[:, 1]
        sizes = (r.chosen > 0).sum(0)                                # [E] tokens per expert
        parts = _SplitRows.apply(x.index_select(0, rows), sizes, e_count)
        ys = torch.cat([expert(part) for expert, part in zip(self.experts, parts)])
        gates = r.gates.reshape(-1).index_select(0, rows * e_count + pairs[:, 0])
        # One scatter-add puts the gated outputs in place (a token's experts are added in expert order). index_add,
        # not index_put(accumulate=True): a token appears once per chosen expert, and the ONNX export of index_put
        # reads, adds and writes back, which keeps only one of duplicate rows (export_onnx.py maps index_add to
        # ScatterND with reduction "add").
        out = torch.zeros_like(x).index_add(0, rows, ys * gates.unsqueeze(1))
        return out, r


class _SplitRows(torch.autograd.Function):
    """Rows cut into `parts` consecutive pieces of the given sizes (a tensor known only at run time).

    torch.split needs the sizes as Python ints, which a traced export would freeze; this exports as one ONNX Split
    whose sizes are an input.
    """

    @staticmethod
    def forward(ctx, rows: torch.Tensor, sizes: torch.Tensor, parts: int):
        return tuple(torch.split(rows, sizes.tolist()))

    @staticmethod
    def backward(ctx, *grads):
        return torch.cat(grads), None, None

    @staticmethod
    def symbolic(g, rows, sizes, parts: int):
        return g.op("Split", rows, sizes, axis_i=0, outputs=parts)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg.d_model, cfg.num_heads, cfg.dropout)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.moe = MoELayer(cfg)
        self.drop = nn.Dropout(cfg.dropout)
        self.k_rule = KRule(cfg.router)

    def forward(self, x, b: int, mask, key_bias, dense: bool = False):
        """x: [b*t, d], the residual stream of b sequences kept flat, so that every projection is a 2-D GEMM and
        no layer rebuilds a [b, t, d] shape."""
        a, probs = self.attn(self.ln1(x), b, key_bias)
        x = x + self.drop(a)
        importance, k = self.k_rule(probs.detach(), mask, float_k=dense)
        y, r = self.moe(self.ln2(x), k.reshape(-1), dense=dense)
        x = x + self.drop(y)
        return x, importance, r


class Output(NamedTuple):
    logits: torch.Tensor                # [B, C]; causal LMs: [B, T, V], position t predicting token t + 1
    importance: torch.Tensor            # [L, B, T]
    expert_count: torch.Tensor          # [L, B, T] int64
    expert_gates: torch.Tensor          # [L, B, T, E]
    router_probs: torch.Tensor          # [L, B, T, E]
    aux_loss: torch.Tensor              # scalar, summed over layers


class MoEClassifier(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=cfg.pad_id)
        self.pos = nn.Embedding(cfg.max_seq_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_layers))
        self.ln = nn.LayerNorm(cfg.d_model)
        if not self.causal:
            self.head = nn.Linear(cfg.d_model, cfg.num_labels)

    @property
    def causal(self) -> bool:
        return self.cfg.task == "causal-lm"

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, dense: bool = False,
               position_shift: Optional[torch.Tensor] = None):
        """The encoder: final LayerNormed states [B, T, d], and per layer the importance [B, T] and Routing.

        position_shift [B] (training only) starts each sequence's positions there instead of at 0, so that the
        positions of long sentences are trained although most training rows are short phrases."""
        b, t = input_ids.shape
        mask = attention_mask.to(torch.float32)
        positions = torch.arange(t, device=input_ids.device).unsqueeze(0)
        if position_shift is not None:
            positions = (positions + position_shift.unsqueeze(1)).clamp(max=self.cfg.max_seq_len - 1)
        x = self.drop(self.tok(input_ids) + self.pos(positions)).reshape(-1, self.cfg.d_model)  # [b*t, d]
        key_bias = ((1.0 - mask) * -1e9).view(b, 1, 1, t)
        if self.causal:
            pos = torch.arange(t, device=input_ids.device)
            key_bias = key_bias + (pos.view(1, t) > pos.view(t, 1)).to(torch.float32).view(1, 1, t, t) * -1e9
        imps: List[torch.Tensor] = []
        routes: List[Routing] = []
        for block in self.blocks:
            x, imp, r = block(x, b, attention_mask, key_bias, dense=dense)
            imps.append(imp)
            routes.append(r)
        return self.ln(x).view(b, t, -1), imps, routes

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, dense: bool = False,
                position_shift: Optional[torch.Tensor] = None) -> Output:
        b, t = input_ids.shape
        h, imps, routes = self.encode(input_ids, attention_mask, dense, position_shift)
        mask = attention_mask.to(torch.float32)
        if self.causal:
            logits = self.vocabulary_logits(self.drop(h))  # [B, T, V]: position t predicts token t + 1
        else:
            pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
            logits = self.head(self.drop(pooled))
        e = self.cfg.num_experts
        flat_valid = mask.reshape(b * t)
        valid = flat_valid.unsqueeze(1)
        return Output(
            logits=logits,
            importance=torch.stack(imps),
            expert_count=_expert_counts(routes, b, t, dense),
            expert_gates=torch.stack([r.gates.view(b, t, e) for r in routes]),
            router_probs=torch.stack([(r.probs * valid).view(b, t, e) for r in routes]),
            aux_loss=aux_loss(routes, flat_valid),
        )

    def vocabulary_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Logits over the vocabulary of final states h [..., d], through the input embedding (tied). Scaled by
        1/sqrt(d): the embeddings start at unit variance per dimension, so unscaled dot products would start as
        logits of standard deviation sqrt(d) (an initial loss near 25 instead of ln(vocab))."""
        # weight @ h^T, transposed back: the export multiplies by the embedding itself. `h @ weight.t()` exports a
        # MatMul with a transposed weight that constant folding stores a second time (+4 MB in model.onnx).
        flat = (self.tok.weight @ h.reshape(-1, h.shape[-1]).t()).t() / math.sqrt(self.cfg.d_model)
        return flat.reshape(*h.shape[:-1], -1)

    def masked_lm(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor):
        """Masked-LM pre-training: vocabulary logits at the flat `positions` (indices into B*T), through the input
        embedding (tied, so pre-training adds no parameters and the classifier loads its checkpoint as it is), and
        the load-balancing loss."""
        h, _, routes = self.encode(input_ids, attention_mask)
        chosen = h.reshape(-1, self.cfg.d_model).index_select(0, positions)
        return self.vocabulary_logits(chosen), aux_loss(routes, attention_mask.to(torch.float32).reshape(-1))


def _expert_counts(routes: List[Routing], b: int, t: int, dense: bool) -> torch.Tensor:
    """K per layer [L, B, T], int64. Dense: K is float32 up to here (route float_slots) and is cast once, so the GPU
    graph has no int64 op on K (onnxruntime would run those on the CPU and copy K there in every layer)."""
    counts = torch.stack([r.k.view(b, t) for r in routes])
    return counts.to(torch.int64) if dense else counts


def aux_loss(routes: List[Routing], flat_valid: torch.Tensor) -> torch.Tensor:
    """The load-balancing loss, summed over layers."""
    total = torch.zeros((), device=flat_valid.device)
    for r in routes:
        total = total + balance_loss(r, flat_valid)
    return total


def expert_flops_per_token(cfg: ModelConfig) -> int:
    """Multiply-adds of one expert on one token, counted as 2 FLOPs each."""
    return 2 * 2 * cfg.d_model * cfg.expert_hidden
