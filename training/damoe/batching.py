"""Length-bucketed batches: shuffle, then sort within pools so batches hold sequences of similar length."""
from __future__ import annotations

import random
from typing import Iterator, List, Sequence, Tuple

import torch


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> Tuple[torch.Tensor, torch.Tensor]:
    t = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), t), pad_id, dtype=torch.int64)
    mask = torch.zeros((len(seqs), t), dtype=torch.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.int64)
        mask[i, :len(s)] = 1
    return ids, mask


def bucketed_indices(lengths: Sequence[int], batch_size: int, rng: random.Random,
                     pool_batches: int = 50) -> Iterator[List[int]]:
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: List[List[int]] = []
    pool = batch_size * pool_batches
    for p in range(0, len(order), pool):
        chunk = sorted(order[p:p + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    yield from batches


def sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[List[int]]:
    """Deterministic evaluation order: by length, so little compute is spent on pads."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for i in range(0, len(order), batch_size):
        yield order[i:i + batch_size]
