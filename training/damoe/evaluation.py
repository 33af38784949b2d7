"""Dev-set metrics: accuracy, mean K per layer, expert load per layer, expert FLOPs."""
from __future__ import annotations

from typing import List, Sequence

import torch

from .batching import pad_batch, sorted_batches
from .model import MoEClassifier, expert_flops_per_token


def encode_file(tok, path: str, label_values, max_len: int):
    """The token ids and labels of a GLUE TSV, as evaluate() takes them."""
    from .glue import read_glue_tsv
    rows = read_glue_tsv(path, label_values)
    return [tok.encode(e.text, e.pair, max_len=max_len) for e in rows], [e.label for e in rows]


class RoutingTally:
    """Mean K, K histograms, expert load and expert FLOPs over the real tokens of several batches."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.tokens = 0
        self.k_sum = torch.zeros(cfg.num_layers, dtype=torch.float64)
        self.k_hist = torch.zeros(cfg.num_layers, cfg.num_experts + 1, dtype=torch.int64)
        self.load = torch.zeros(cfg.num_layers, cfg.num_experts, dtype=torch.float64)

    def add(self, out, mask: torch.Tensor) -> None:
        valid = mask.bool()
        self.tokens += int(valid.sum())
        for layer in range(self.cfg.num_layers):
            k = out.expert_count[layer][valid]
            self.k_sum[layer] += float(k.sum())
            self.k_hist[layer] += torch.bincount(k, minlength=self.cfg.num_experts + 1)
            self.load[layer] += (out.expert_gates[layer][valid] > 0).sum(0).to(torch.float64)

    def result(self) -> dict:
        cfg, tokens = self.cfg, self.tokens
        mean_k = (self.k_sum / max(tokens, 1)).tolist()
        flops_per = expert_flops_per_token(cfg)
        share: List[List[float]] = (self.load / self.load.sum(1, keepdim=True).clamp(min=1)).tolist()
        pooled = self.k_hist.sum(0)
        return {
            "tokens": tokens,
            "mean_k_per_layer": mean_k,
            "mean_k": sum(mean_k) / len(mean_k),
            "k_histogram_per_layer": self.k_hist[:, :cfg.router.max_experts_per_token + 1].tolist(),
            # The share of real tokens (all layers) at the most common K: 1.0 for fixed top-k, near 1 for a DA-MoE
            # whose K hardly varies.
            "most_common_k": int(pooled.argmax()),
            "most_common_k_share": float(pooled.max()) / max(float(pooled.sum()), 1.0),
            "expert_load_share_per_layer": share,
            "dead_experts_per_layer": [[e for e, v in enumerate(row) if v == 0] for row in self.load.tolist()],
            "expert_gflops": float(self.k_sum.sum()) * flops_per / 1e9,
            "expert_gflops_per_token": float(self.k_sum.sum()) * flops_per / max(tokens, 1) / 1e9,
        }


@torch.no_grad()
def evaluate(model: MoEClassifier, seqs: Sequence[Sequence[int]], labels: Sequence[int],
             batch_size: int = 256) -> dict:
    was_training = model.training
    model.eval()
    cfg = model.cfg
    correct = 0
    predictions = [0] * len(seqs)
    tally = RoutingTally(cfg)
    for idx in sorted_batches([len(s) for s in seqs], batch_size):
        ids, mask = pad_batch([seqs[i] for i in idx], cfg.pad_id)
        out = model(ids, mask)
        y = torch.tensor([labels[i] for i in idx])
        pred = out.logits.argmax(-1)
        correct += int((pred == y).sum())
        for i, p in zip(idx, pred.tolist()):
            predictions[i] = p
        tally.add(out, mask)
    model.train(was_training)
    routing = tally.result()
    return {"accuracy": correct / len(seqs), "examples": len(seqs), "tokens": routing.pop("tokens"),
            **routing, "predictions": predictions}
