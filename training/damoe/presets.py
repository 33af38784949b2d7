"""The routers of the study and of the shipped models: one backbone, data, step count and schedule; only the
router differs. The K rules are defined in config.py (RouterConfig) and routing.py."""
from __future__ import annotations

import re

from .config import ModelConfig, RouterConfig

# A study run's directory name: ROUTER-sSEED (training/train.sh makes them).
RUN_NAME = re.compile(r"^(?P<router>[a-z0-9-]+)-s(?P<seed>\d+)$")

# k_scale 0.375 puts K = ceil(1.5 * importance): K = 2 for importance in (0.67, 1.33], near top-2's compute when
# importance averages about 1. Each DA-MoE variant is trained with the rule it is evaluated and shipped with.
PRESETS = {
    # (a) attention received, normalised by its mean over the sentence (the first shipped rule).
    "damoe-mean": RouterConfig(kind="da-moe", k_max=4, importance_norm="mean", k_scale=0.375),
    # (b) the largest share any head gives the token, against its running mean over the training corpus.
    "damoe-corpus": RouterConfig(kind="da-moe", k_max=4, importance_norm="corpus", importance_heads="max",
                                 k_scale=0.375),
    # (c) as (b), with the threshold calibrated in training so that mean K = 2.0 (top-2's compute).
    "damoe-calibrated": RouterConfig(kind="da-moe", k_max=4, importance_norm="corpus", importance_heads="max",
                                     k_scale=0.375, k_calibration="mean-k", target_mean_k=2.0),
    "top2": RouterConfig(kind="top-k", k=2, renormalize_gates=True),
    "switch": RouterConfig(kind="top-k", k=1, renormalize_gates=False),
}

# Causal LMs (task "causal-lm"): the same blocks under a causal mask. Received attention is corrected by the
# uniform-causal baseline (RouterConfig.received_correction), normalised by its sentence mean, and the threshold is
# calibrated to mean K = 2.0 so the DA-MoE LM spends top-2's expert compute by construction.
LM_PRESETS = {
    "damoe-lm": RouterConfig(kind="da-moe", k_max=4, importance_norm="mean", k_scale=0.375, k_calibration="mean-k",
                             target_mean_k=2.0, received_correction="uniform-causal"),
    "top2-lm": RouterConfig(kind="top-k", k=2, renormalize_gates=True, importance_norm="mean",
                            received_correction="uniform-causal"),
}

# Shipped model folder -> the study routers it may come from (the DA-MoE one is chosen by training/compare.py).
SHIPPED = {
    "damoe-sst2": ["damoe-mean", "damoe-corpus", "damoe-calibrated"],
    "top2-sst2": ["top2"],
    "switch-sst2": ["switch"],
}
# Shipped causal LMs -> the LM preset each is trained with (training/train_lm.py, not part of the router study).
SHIPPED_LM = {"damoe-lm-sst2": "damoe-lm"}


def preset_model_config(name: str, vocab_size: int, **router_overrides) -> ModelConfig:
    presets = {**PRESETS, **LM_PRESETS}
    if name not in presets:
        raise KeyError(f"unknown preset {name!r}; choose one of {sorted(presets)}")
    router = RouterConfig(**{**presets[name].__dict__, **router_overrides})
    task = "causal-lm" if name in LM_PRESETS else "sequence-classification"
    return ModelConfig(vocab_size=vocab_size, router=router, task=task).validate()
