"""Model and training configuration, with every DA-MoE design choice named and validated."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import List, Optional


class ConfigError(ValueError):
    """A configuration that contradicts itself or names something unknown."""


ROUTER_KINDS = ("da-moe", "top-k")
IMPORTANCE_NORMS = ("max", "mean", "sum", "corpus")
IMPORTANCE_HEADS = ("mean", "max")
K_CALIBRATIONS = ("none", "mean-k")
TASKS = ("sequence-classification", "causal-lm")
# How attention received under a causal mask is corrected for how many queries can see each key (routing.py).
RECEIVED_CORRECTIONS = ("none", "visible-queries", "uniform-causal")


@dataclass
class RouterConfig:
    # "da-moe": K chosen per token from attention importance; "top-k": fixed K = k (k=1 is Switch).
    kind: str = "da-moe"
    k_max: int = 4
    # Fixed K for top-k routers.
    k: int = 2
    # The K rule is defined here and in routing.py, and nowhere else: the exported graph computes K, and the
    # inspector only checks the contract invariants (1 <= K <= k_max, K = number of non-zero gates).
    #
    # Importance of token t: the attention it receives from the sequence's non-pad query rows, as a multiple of
    # uniform attention (T_real * mean over queries), reduced over heads by `importance_heads`, then normalised by
    # `importance_norm`:
    #   "max" / "mean" / "sum": by that statistic over the sequence's own tokens. With head "mean" and norm "mean"
    #     every sentence's importances average exactly 1 (each query row sums to 1), so compute can only move
    #     between the tokens of one sentence.
    #   "corpus": by a running mean of the same figure over all training tokens (an EMA kept in the model and
    #     frozen at export). With head "max" a sentence whose heads all attend flatly gets less compute than one
    #     whose heads single tokens out, so compute also moves between sentences.
    importance_norm: str = "max"
    importance_heads: str = "mean"
    # K_t = clamp(ceil(s * importance_t), 1, k_max) with s = k_scale * k_max. k_scale < 1 trades experts for compute.
    k_scale: float = 1.0
    # "mean-k": s is calibrated per layer during training so that the mean K of real tokens is `target_mean_k`
    # (each step solves for the batch's s and folds it into a running value, which is what routes and is exported).
    # DA-MoE then spends top-2's expert compute by construction; k_scale only sets the starting point.
    k_calibration: str = "none"
    target_mean_k: float = 2.0
    calibration_momentum: float = 0.05
    # Renormalise the chosen experts' softmax probabilities to sum to 1. Switch (top-1) keeps the raw
    # probability as the gate, otherwise the router would receive no gradient from the task loss.
    renormalize_gates: bool = True
    # Weight of the Switch-style load-balancing loss, summed over layers.
    balance_loss_weight: float = 0.01
    # Under a causal mask key j is seen only by queries j..T-1, so the raw sum of received attention favours early
    # tokens whatever the model attends to. The correction divides it, per head, before the heads are reduced:
    #   "none": the raw sum (right for bidirectional attention, where every query sees every key);
    #   "visible-queries": by the number of real queries that can see the key (T_real - j): the mean over those
    #     queries. Under uniform attention this still favours early keys (by H_T, ~3.1 at T = 12), because early
    #     queries spread their attention over fewer keys;
    #   "uniform-causal": by what the key would receive if every query attended uniformly to the keys it can see
    #     (sum over q >= j of 1 / (q + 1)): importance is then a multiple of uniform causal attention, as it is a
    #     multiple of uniform attention for bidirectional models. Under uniform attention every token gets 1.
    received_correction: str = "none"

    @property
    def max_experts_per_token(self) -> int:
        return self.k_max if self.kind == "da-moe" else self.k


@dataclass
class ModelConfig:
    vocab_size: int = 8000
    d_model: int = 128
    num_heads: int = 4
    num_layers: int = 4
    num_experts: int = 8
    expert_hidden: int = 256
    max_seq_len: int = 512
    num_labels: int = 2
    dropout: float = 0.1
    pad_id: int = 0
    # "sequence-classification": bidirectional encoder + pooled class head; "causal-lm": causal mask and a
    # next-token head tied to the input embedding.
    task: str = "sequence-classification"
    router: RouterConfig = field(default_factory=RouterConfig)

    def validate(self) -> "ModelConfig":
        r = self.router
        if r.kind not in ROUTER_KINDS:
            raise ConfigError(f"router.kind must be one of {ROUTER_KINDS}, got {r.kind!r}")
        if r.importance_norm not in IMPORTANCE_NORMS:
            raise ConfigError(f"router.importance_norm must be one of {IMPORTANCE_NORMS}, got {r.importance_norm!r}")
        for name in ("vocab_size", "d_model", "num_heads", "num_layers", "num_experts", "expert_hidden",
                     "max_seq_len", "num_labels"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.d_model % self.num_heads:
            raise ConfigError(f"d_model ({self.d_model}) must be divisible by num_heads ({self.num_heads})")
        if r.kind == "da-moe" and not 1 <= r.k_max <= self.num_experts:
            raise ConfigError(f"router.k_max ({r.k_max}) must be between 1 and num_experts ({self.num_experts})")
        if r.kind == "top-k" and not 1 <= r.k <= self.num_experts:
            raise ConfigError(f"router.k ({r.k}) must be between 1 and num_experts ({self.num_experts})")
        if r.importance_heads not in IMPORTANCE_HEADS:
            raise ConfigError(f"router.importance_heads must be one of {IMPORTANCE_HEADS}, got {r.importance_heads!r}")
        if r.k_calibration not in K_CALIBRATIONS:
            raise ConfigError(f"router.k_calibration must be one of {K_CALIBRATIONS}, got {r.k_calibration!r}")
        if r.kind == "da-moe" and r.k_calibration == "mean-k" and not 1 <= r.target_mean_k <= r.k_max:
            raise ConfigError(f"router.target_mean_k ({r.target_mean_k}) must be between 1 and k_max ({r.k_max})")
        if not 0 < r.calibration_momentum <= 1:
            raise ConfigError(f"router.calibration_momentum must be in (0, 1], got {r.calibration_momentum}")
        if r.k_scale <= 0:
            raise ConfigError(f"router.k_scale must be positive, got {r.k_scale}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.task not in TASKS:
            raise ConfigError(f"task must be one of {TASKS}, got {self.task!r}")
        if r.received_correction not in RECEIVED_CORRECTIONS:
            raise ConfigError(f"router.received_correction must be one of {RECEIVED_CORRECTIONS}, "
                              f"got {r.received_correction!r}")
        if self.task == "sequence-classification" and self.num_labels < 2:
            raise ConfigError(f"num_labels must be at least 2, got {self.num_labels}")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "ModelConfig":
        d = dict(d)
        router = RouterConfig(**d.pop("router", {}))
        try:
            return ModelConfig(router=router, **d).validate()
        except TypeError as e:
            raise ConfigError(f"unknown model config field: {e}") from e


@dataclass
class TrainConfig:
    name: str = "damoe-sst2"
    train_file: str = "../shared/data/sst2/train.tsv"
    dev_file: str = "../shared/data/sst2/dev.tsv"
    labels: List[str] = field(default_factory=lambda: ["negative", "positive"])
    # GLUE label column values in the order of `labels`.
    label_values: List[str] = field(default_factory=lambda: ["0", "1"])
    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 300
    seed: int = 1234
    threads: int = 2
    eval_every: int = 0  # steps; 0 means once per epoch
    max_train_len: int = 128
    max_steps: Optional[int] = None

    def validate(self) -> "TrainConfig":
        if len(self.labels) != len(self.label_values):
            raise ConfigError("labels and label_values must have the same length")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch_size must be at least 1")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        return self


def load_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"config file {path} is not valid JSON: {e}") from None
