"""A Hugging Face MoE model's config.json -> the inspector's contract v2 metadata (docs/model-contract.md):
the router convention and its parameters, top-k, shared experts and dense layers, per family as transformers'
modelling files read them (src/transformers/models/<model_type>/modeling_<model_type>.py). Pure Python: no torch,
no transformers, so training/tests checks it on small config.json fixtures. training/export_hf.py adds what only
the weights hold (DeepSeek's e_score_correction_bias).
"""


class UnsupportedModel(ValueError):
    """A config.json this exporter cannot map: the message names the problem and what is supported."""


SOFTMAX_FAMILIES = {"mixtral", "qwen2_moe", "qwen3_moe", "olmoe"}
TOPK_SOFTMAX_FAMILIES = {"gpt_oss", "granitemoe", "jetmoe"}
GROUPED_FAMILIES = {"deepseek_v3", "glm4_moe"}
SWITCH_FAMILIES = {"switch_transformers"}
SUPPORTED = sorted(SOFTMAX_FAMILIES | TOPK_SOFTMAX_FAMILIES | GROUPED_FAMILIES | SWITCH_FAMILIES)


def _need(config, *keys):
    for key in keys:
        if key in config and config[key] is not None:
            return config[key]
    raise UnsupportedModel(f"config.json of a {config.get('model_type')} model has no {' or '.join(keys)}")


def num_experts(config):
    return int(_need(config, "num_local_experts", "num_experts", "n_routed_experts"))


def top_k(config):
    if config.get("model_type") in SWITCH_FAMILIES:
        return 1
    return int(_need(config, "num_experts_per_tok", "experts_per_token", "top_k"))


def decoder_layers(config):
    if config.get("model_type") in SWITCH_FAMILIES:
        return int(_need(config, "num_decoder_layers", "num_layers"))
    return int(_need(config, "num_hidden_layers"))


def dense_layers(config):
    """Decoder-layer indices whose MLP is dense, by each family's rule."""
    family = config.get("model_type")
    n = decoder_layers(config)
    if family in ("qwen2_moe", "qwen3_moe"):
        # Qwen2MoeDecoderLayer: sparse iff layer not in mlp_only_layers and (layer + 1) % decoder_sparse_step == 0.
        step = int(config.get("decoder_sparse_step", 1) or 1)
        only = set(config.get("mlp_only_layers") or [])
        return [i for i in range(n) if i in only or (i + 1) % step != 0]
    if family in GROUPED_FAMILIES:
        # DeepseekV3DecoderLayer: MoE iff layer_idx >= first_k_dense_replace.
        first = int(config.get("first_k_dense_replace", 0) or 0)
        return list(range(min(first, n)))
    if family in SWITCH_FAMILIES:
        # SwitchTransformersStack: sparse iff i % sparse_step == 1 or sparse_step == 1 (0: no sparse layer).
        step = int(config.get("decoder_sparse_step", 1) or 0)
        if step <= 0:
            return list(range(n))
        return [i for i in range(n) if not (step == 1 or i % step == 1)]
    return []


def router_metadata(config):
    """The `router` key (without the weights' e_score_correction_bias)."""
    family = config.get("model_type")
    if family in SOFTMAX_FAMILIES:
        # Mixtral always renormalises; the others only with norm_topk_prob (OLMoE's and Qwen2-MoE's default: false).
        renorm = family == "mixtral" or bool(config.get("norm_topk_prob", False))
        return {"convention": "softmax-topk-renorm" if renorm else "softmax-topk", "input": "logits"}
    if family in TOPK_SOFTMAX_FAMILIES:
        return {"convention": "topk-softmax", "input": "logits"}
    if family in GROUPED_FAMILIES:
        return {
            "convention": "sigmoid-group-topk",
            "input": "logits",
            "n_group": int(config.get("n_group", 1) or 1),
            "topk_group": int(config.get("topk_group", 1) or 1),
            "norm_topk_prob": bool(config.get("norm_topk_prob", True)),
            "routed_scaling_factor": float(config.get("routed_scaling_factor", 1.0) or 1.0),
        }
    if family in SWITCH_FAMILIES:
        return {"convention": "switch-capacity", "input": "logits", "expert_capacity": int(_need(config, "expert_capacity"))}
    raise UnsupportedModel(
        f"model_type {family!r} is not a supported MoE family; supported: {', '.join(SUPPORTED)} "
        "(docs/model-contract.md#router-conventions)")


def shared_experts(config):
    family = config.get("model_type")
    if family == "qwen2_moe" and int(config.get("shared_expert_intermediate_size", 0) or 0) > 0:
        return {"count": 1, "gate": "sigmoid"}
    if family in GROUPED_FAMILIES and int(config.get("n_shared_experts", 0) or 0) > 0:
        return {"count": int(config["n_shared_experts"]), "gate": "none"}
    return None


def expert_flops_per_token(config):
    """2 x the multiply-adds of one routed expert (SwiGLU: three H x I matrices; Switch: two)."""
    hidden = config.get("hidden_size") or config.get("d_model")
    inter = config.get("moe_intermediate_size") or config.get("intermediate_size") or config.get("d_ff")
    if not hidden or not inter:
        return None
    mats = 2 if config.get("model_type") in SWITCH_FAMILIES else 3
    return 2 * mats * int(hidden) * int(inter)


def contract_metadata(config, task="causal-lm", tokenizer="tokenizer.json", max_sequence_length=None, labels=None):
    """The moe.contract JSON for `config` (a parsed config.json). `labels`: class names for sequence-classification
    (default: config's id2label in id order)."""
    if task not in ("causal-lm", "sequence-classification"):
        raise UnsupportedModel(f"task must be causal-lm or sequence-classification, got {task!r}")
    E = num_experts(config)
    k = top_k(config)
    if not 1 <= k <= E:
        raise UnsupportedModel(f"top-k {k} is not within 1..{E} experts")
    dense = dense_layers(config)
    moe_layers = decoder_layers(config) - len(dense)
    if moe_layers < 1:
        raise UnsupportedModel("config.json describes no MoE layer (every decoder layer is dense)")
    max_len = max_sequence_length or int(config.get("max_position_embeddings") or config.get("n_positions") or 2048)
    meta = {
        "contract_version": 2,
        "task": task,
        "router_kind": "top-k",
        "k": k,
        "num_layers": moe_layers,
        "num_experts": E,
        "tokenizer": tokenizer,
        "max_sequence_length": max_len,
        "router": router_metadata(config),
    }
    shared = shared_experts(config)
    if shared:
        meta["shared_experts"] = shared
    if dense:
        meta["dense_layers"] = dense
    flops = expert_flops_per_token(config)
    if flops:
        meta["expert_flops_per_token"] = flops
    if task == "sequence-classification":
        if labels is None:
            id2label = config.get("id2label") or {}
            labels = [id2label[key] for key in sorted(id2label, key=int)] if id2label else None
        if not labels or len(labels) < 2:
            raise UnsupportedModel("a sequence classifier needs at least 2 labels: config.json id2label, or --labels")
        meta["labels"] = list(labels)
    meta["source"] = f"training/export_hf.py from a Hugging Face {config.get('model_type')} config.json"
    return meta
