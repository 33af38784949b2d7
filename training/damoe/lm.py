"""Causal-LM losses and evaluation: per-token next-token loss, perplexity, and the same routing figures as the
classifiers (evaluation.RoutingTally).

Token t's loss is -log p(x_t | x_<t) in nats, read from the logits at position t - 1; position 0 ([CLS]) has none.
Perplexity is exp(mean loss) over every real token after the first ([SEP] included).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F

from .batching import pad_batch, sorted_batches
from .evaluation import RoutingTally


def token_losses(logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """logits [B, T, V] (position t predicts t + 1), ids and mask [B, T] -> loss of each token [B, T] (nats),
    aligned with the token: column t is -log p(ids[:, t] | ids[:, <t]). Column 0 and pads are 0."""
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    nll = -logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1) * mask[:, 1:].to(logp.dtype)
    return F.pad(nll, (1, 0))


def scored(mask: torch.Tensor) -> torch.Tensor:
    """The tokens that have a loss: real tokens after the first."""
    s = mask.clone()
    s[:, 0] = 0
    return s


def lm_loss(logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss over the scored tokens of a batch."""
    s = scored(mask).to(logits.dtype)
    return token_losses(logits, ids, mask).sum() / s.sum().clamp(min=1.0)


@torch.no_grad()
def evaluate_lm(model, seqs: Sequence[Sequence[int]], batch_size: int = 128) -> dict:
    """Teacher-forced perplexity (one forward per sentence, as the exported graph and the inspector compute it),
    top-1/top-5 next-token accuracy, mean loss per K (layer-mean K rounded), and the routing figures."""
    was_training = model.training
    model.eval()
    cfg = model.cfg
    tally = RoutingTally(cfg)
    loss_sum, n, top1, top5 = 0.0, 0, 0, 0
    k_max = cfg.router.max_experts_per_token
    loss_by_k = torch.zeros(cfg.num_layers, k_max + 1, dtype=torch.float64)
    count_by_k = torch.zeros(cfg.num_layers, k_max + 1, dtype=torch.float64)
    for idx in sorted_batches([len(s) for s in seqs], batch_size):
        ids, mask = pad_batch([seqs[i] for i in idx], cfg.pad_id)
        out = model(ids, mask)
        losses = token_losses(out.logits, ids, mask)
        s = scored(mask).bool()
        loss_sum += float(losses[s].sum())
        n += int(s.sum())
        top = out.logits[:, :-1].topk(5, dim=-1).indices          # predictions for tokens 1..T-1
        hit = top == ids[:, 1:].unsqueeze(-1)
        top1 += int(hit[..., 0][s[:, 1:]].sum())
        top5 += int(hit.any(-1)[s[:, 1:]].sum())
        for layer in range(cfg.num_layers):
            k = out.expert_count[layer][s]
            loss_by_k[layer].index_add_(0, k, losses[s].to(torch.float64))
            count_by_k[layer].index_add_(0, k, torch.ones_like(k, dtype=torch.float64))
        tally.add(out, mask)
    model.train(was_training)
    mean_loss = loss_sum / max(n, 1)
    mean_loss_by_k = (loss_by_k / count_by_k.clamp(min=1)).tolist()
    return {"examples": len(seqs), "scored_tokens": n, "mean_loss": mean_loss, "perplexity": math.exp(mean_loss),
            "top1_accuracy": top1 / max(n, 1), "top5_accuracy": top5 / max(n, 1),
            "mean_loss_by_k_per_layer": [[round(v, 4) if c else None for v, c in zip(row, counts)]
                                         for row, counts in zip(mean_loss_by_k, count_by_k.tolist())],
            **tally.result()}


@torch.no_grad()
def prefix_perplexity(model, seqs: Sequence[Sequence[int]], batch_size: int = 256) -> dict:
    """Perplexity with every token's prediction made from its prefix alone: the sentence cut after token t - 1,
    run on its own, predicts token t. This is what generation would see. A DA-MoE layer's K reads the attention a
    token *receives*, i.e. from later tokens, so in one teacher-forced pass token t - 1's routing (and hence the
    prediction of token t) can depend on token t itself; the gap between this and evaluate_lm's perplexity measures
    that leak. For a fixed top-k router the two are equal up to float rounding."""
    was_training = model.training
    model.eval()
    cfg = model.cfg
    prefixes = [(list(s[:t]), s[t]) for s in seqs for t in range(1, len(s))]
    loss_sum = 0.0
    for idx in sorted_batches([len(p) for p, _ in prefixes], batch_size):
        ids, mask = pad_batch([prefixes[i][0] for i in idx], cfg.pad_id)
        logits = model(ids, mask).logits
        last = mask.sum(1) - 1
        logp = torch.log_softmax(logits[torch.arange(len(idx)), last], dim=-1)
        target = torch.tensor([prefixes[i][1] for i in idx])
        loss_sum += float(-logp.gather(1, target.unsqueeze(1)).sum())
    model.train(was_training)
    mean = loss_sum / max(len(prefixes), 1)
    return {"scored_tokens": len(prefixes), "mean_loss": mean, "perplexity": math.exp(mean)}
