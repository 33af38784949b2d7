"""The optimiser and schedule every training script uses: AdamW (no decay on biases, norms and embeddings), linear
warm-up then linear decay to 0, gradients clipped to norm 1."""
from __future__ import annotations

import torch


def adamw_schedule(model: torch.nn.Module, lr: float, weight_decay: float, total_steps: int, warmup: int):
    """AdamW with linear warm-up then linear decay to 0 over `total_steps`; a fresh one per training stage."""
    decay = [p for n, p in model.named_parameters() if p.dim() > 1 and "emb" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() > 1 and "emb" not in n)]
    o = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    return o, torch.optim.lr_scheduler.LambdaLR(
        o, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / max(total_steps, 1)))


def update(model: torch.nn.Module, o, sched, loss: torch.Tensor) -> None:
    o.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    o.step()
    sched.step()
