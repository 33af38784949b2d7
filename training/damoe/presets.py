"""The shipped models: one backbone, data, step count and seed; only the router differs."""
from __future__ import annotations

from .config import ModelConfig, RouterConfig

PRESETS = {
    "damoe-sst2": RouterConfig(kind="da-moe", k_max=4, importance_norm="mean", k_scale=0.5, renormalize_gates=True),
    "switch-sst2": RouterConfig(kind="top-k", k=1, renormalize_gates=False),
    "top2-sst2": RouterConfig(kind="top-k", k=2, renormalize_gates=True),
}


def preset_model_config(name: str, vocab_size: int, **router_overrides) -> ModelConfig:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    router = RouterConfig(**{**PRESETS[name].__dict__, **router_overrides})
    return ModelConfig(vocab_size=vocab_size, router=router).validate()
