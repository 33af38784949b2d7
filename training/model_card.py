"""The README.md model card written next to each exported model."""
from __future__ import annotations

from damoe.config import ModelConfig


def _router_rule(cfg: ModelConfig) -> str:
    r = cfg.router
    if r.kind == "da-moe":
        return (f"**DA-MoE**. Importance of token t = the attention t receives in the same block's self-attention, "
                f"averaged over heads and over non-pad query rows, normalised over the sequence's non-pad tokens "
                f"by the **{r.importance_norm}**. Experts per token: `K_t = clamp(ceil({r.k_scale} × {r.k_max} × "
                f"importance_t), 1, {r.k_max})`; pads get K = 0. Gates: the router softmax over the top-K_t experts, "
                f"renormalised to sum to 1.")
    gate = "renormalised to sum to 1" if r.renormalize_gates else "the raw router probability (Switch)"
    return f"**Fixed top-{r.k}**. Every real token goes to its top-{r.k} experts; gate = {gate}."


def _k_scale_note(cfg: ModelConfig, m: dict) -> str:
    trained = m.get("trained_k_scale")
    if cfg.router.kind != "da-moe" or trained is None or trained == cfg.router.k_scale:
        return ""
    return (f"Trained with k_scale {trained}; shipped with k_scale {cfg.router.k_scale}, chosen on dev so that the mean K "
            f"is near 2 (see `models/README.md` and `models/k-scale-sweep.json`).\n")


def model_card(cfg: ModelConfig, m: dict) -> str:
    layers = "\n".join(
        f"| {i} | {k:.3f} | {' '.join(f'{s:.3f}' for s in share)} | {m['dead_experts_per_layer'][i] or '—'} |"
        for i, (k, share) in enumerate(zip(m["mean_k_per_layer"], m["expert_load_share_per_layer"])))
    minutes = (m.get("train_seconds") or 0) / 60
    return f"""# {m['model']}

A Transformer encoder sentiment classifier whose FFN sublayers are Mixture-of-Experts layers, trained from scratch
on GLUE SST-2 by `training/` in this repository. It follows the routing contract in `docs/model-contract.md`.

## Architecture
- {cfg.num_layers} pre-LayerNorm encoder blocks, d_model {cfg.d_model}, {cfg.num_heads} heads, learned positions
  (max {cfg.max_seq_len}), vocabulary {cfg.vocab_size} (WordPiece, lower-cased, `tokenizer.json`).
- Each FFN is an MoE layer of {cfg.num_experts} experts ({cfg.d_model}→{cfg.expert_hidden}→{cfg.d_model}, GELU)
  with sparse dispatch: each expert runs only on the tokens routed to it.
- Mean-pooled final states → linear classifier over {', '.join(m['contract']['labels'])}.
- {m['parameters']:,} parameters; `model.onnx` {m['model_onnx_bytes'] / 2**20:.1f} MiB (fp32, opset 17).

## Router
{_router_rule(cfg)}
Load balancing: Switch-style loss `E · Σ_e f_e · P_e`, weight {cfg.router.balance_loss_weight}, summed over layers.

## Data
GLUE SST-2 (Socher et al., 2013; Wang et al., 2018) as re-split in `../shared/data/sst2/`: trained on
`train.tsv` (60,614 rows), checkpoint chosen on `dev.tsv` (6,735 rows) — the figures below are on that dev set.

## Results on dev
- accuracy: **{m['accuracy']:.4f}** ({m['examples']} examples, {m['tokens']} tokens incl. [CLS]/[SEP])
- mean active experts per token (ΣK / tokens): **{m['mean_k']:.3f}**
- expert compute: {m['expert_gflops_per_token'] * 1e3:.3f} MFLOPs per token over all layers
- PyTorch eager latency, one sentence of 32 tokens, 1 thread: {m['torch_latency_ms_T32_1thread']} ms

| layer | mean K | expert load share (experts 0..{cfg.num_experts - 1}) | dead experts |
| --- | --- | --- | --- |
{layers}

## Training
Two stages, identical for the three shipped models: 2 epochs from scratch (1,896 steps, batch 64, AdamW lr 1e-3,
warm-up 300 steps then linear decay, seed 1234), then 1 more epoch from that checkpoint (948 steps, lr 3e-4,
warm-up 100, shuffle seed 1235); dropout {cfg.dropout}, weight decay 0.01, {m.get('train_threads')} torch thread per
run. {m.get('train_steps')} steps in all; the checkpoint with the best dev accuracy of stage 2 is shipped (step
{m.get('best_step')} of 948). {minutes:.1f} minutes of training step time on {m['machine']}, with the three models
training at once and other work on the same 2 cores (an idle core trains one model about 3× faster).
{_k_scale_note(cfg, m)}
Reproduce: `{m['reproduce']}`
"""
