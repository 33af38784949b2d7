"""Loading a training run's best checkpoint back into a model."""
from __future__ import annotations

import json
import os

import torch

from .config import ConfigError, ModelConfig
from .model import MoEClassifier


def load_run(run_dir: str, **router_overrides):
    """Returns (model, checkpoint dict). Router settings (e.g. k_scale) may be overridden for inference."""
    path = os.path.join(run_dir, "best.pt")
    if not os.path.exists(path):
        raise ConfigError(f"no checkpoint at {path}; train first with training/train.py --out {run_dir}")
    ckpt = torch.load(path, map_location="cpu")
    cfg_dict = dict(ckpt["model_config"])
    cfg_dict["router"] = {**cfg_dict["router"], **router_overrides}
    cfg = ModelConfig.from_dict(cfg_dict)
    model = MoEClassifier(cfg)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt


def run_summary(run_dir: str) -> dict:
    path = os.path.join(run_dir, "summary.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)
