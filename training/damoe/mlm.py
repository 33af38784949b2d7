"""Masked-language-model inputs for the optional pre-training stage (BERT's recipe: of the real, non-special
tokens, 15% are predicted; of those, 80% become [MASK], 10% a random token, 10% stay as they are)."""
from __future__ import annotations

from typing import Sequence, Tuple

import torch


def mask_tokens(ids: torch.Tensor, mask: torch.Tensor, special_ids: Sequence[int], mask_id: int, vocab_size: int,
                generator: torch.Generator, rate: float = 0.15) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ids, mask [B, T] -> (corrupted ids, flat positions to predict [M], their original ids [M]).

    At least one token of the batch is predicted whenever the batch has a maskable token.
    """
    maskable = mask.bool()
    for s in special_ids:
        maskable &= ids != s
    pick = (torch.rand(ids.shape, generator=generator) < rate) & maskable
    if not bool(pick.any()) and bool(maskable.any()):
        pick.view(-1)[maskable.view(-1).nonzero()[0]] = True
    action = torch.rand(ids.shape, generator=generator)
    corrupted = ids.clone()
    corrupted[pick & (action < 0.8)] = mask_id
    rand = pick & (action >= 0.8) & (action < 0.9)
    corrupted[rand] = torch.randint(max(special_ids) + 1, vocab_size, ids.shape, generator=generator)[rand]
    positions = pick.view(-1).nonzero().squeeze(1)
    return corrupted, positions, ids.view(-1).index_select(0, positions)
