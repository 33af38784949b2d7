import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

import torch  # noqa: E402

from damoe.config import ModelConfig, RouterConfig  # noqa: E402
from damoe.model import MoEClassifier  # noqa: E402

torch.set_num_threads(1)


def tiny_model(kind="da-moe", seed=0, task="sequence-classification", **router):
    torch.manual_seed(seed)
    r = RouterConfig(kind=kind, **router)
    cfg = ModelConfig(vocab_size=64, d_model=16, num_heads=2, num_layers=2, num_experts=4, expert_hidden=32,
                      max_seq_len=64, dropout=0.0, router=r, task=task)
    return MoEClassifier(cfg).eval()


def batch(seed=1, b=3, t=9):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 64, (b, t), generator=g)
    mask = torch.ones(b, t, dtype=torch.int64)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    return ids, mask
