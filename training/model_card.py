"""The README.md model card written next to each exported model."""
from __future__ import annotations

from typing import Optional

from damoe.model import MoEClassifier


def _router_rule(model: MoEClassifier, meta: dict) -> str:
    r = model.cfg.router
    imp = meta["importance"]
    if r.kind != "da-moe":
        gate = "renormalised to sum to 1" if r.renormalize_gates else "the raw router probability (Switch)"
        return (f"**Fixed top-{r.k}**. Every real token goes to its top-{r.k} experts; gate = {gate}. The importance "
                f"it reports is {imp['definition']}.")
    text = (f"**DA-MoE** (`{meta.get('study_router') or 'da-moe'}`). Importance of token t = {imp['definition']}.")
    if "corpus_mean" in imp:
        text += f" The corpus means per layer: {', '.join(f'{v:.3f}' for v in imp['corpus_mean'])}."
    cal = imp.get("k_calibration")
    if cal:
        s = ", ".join(f"{v:.3f}" for v in cal["s_per_layer"])
        text += (f" Experts per token: `K_t = clamp(ceil(s × importance_t), 1, {r.k_max})`, with s calibrated per layer"
                 f" during training so that the mean K of real training tokens is {cal['target_mean_k']}: s = {s}"
                 f" (layers 0..{model.cfg.num_layers - 1}).")
    else:
        text += (f" Experts per token: `K_t = clamp(ceil({r.k_scale} × {r.k_max} × importance_t), 1, {r.k_max})`, the "
                 f"k_scale it was trained with.")
    return text + " Pads get K = 0. Gates: the router softmax over the top-K_t experts, renormalised to sum to 1."


def _importance_checks(m: dict, layers: int) -> str:
    check = m.get("importance_check")
    if not check:
        return ""
    occ = check["occlusion"]
    pooled = " · ".join(f"{v:+.3f}" for v in occ["spearman_pooled_per_layer"])
    per = " · ".join(f"{v:+.3f}" for v in occ["spearman_mean_per_sentence_per_layer"])
    classes = check["k_by_word_class"]
    rows = "\n".join(f"| {c} | {v['tokens']} | {v['mean_k']:.3f} | {' · '.join(f'{k:.2f}' for k in v['mean_k_per_layer'])} |"
                     for c, v in classes.items())
    return f"""
## Is importance meaningful?
Occlusion on {occ['sentences']} sentences of sentence-dev ({occ['tokens']} tokens, drawn with seed {occ['seed']}): each
token is removed in turn, and the drop in the predicted class's probability is ranked against the token's importance.
Spearman's rho per layer (0..{layers - 1}), pooled over all tokens: {pooled}; the mean of the per-sentence rhos: {per}.
A rho near 0 means importance does not pick out the tokens the prediction depends on.

Mean K by word class on all of sentence-dev ([CLS]/[SEP] left out; negations count as content words):

| class | tokens | mean K | per layer |
| --- | --- | --- | --- |
{rows}
"""


def _study(m: dict, study: Optional[dict]) -> str:
    router = m.get("study_router")
    if not study or router not in study.get("routers", {}):
        return ""
    r = study["routers"][router]
    lines = [f"\n## In the study\nThis is seed {m.get('seed')} of `{router}`, the seed with the best sentence-dev "
             f"accuracy of {len(r['seeds'])} (seeds {', '.join(map(str, r['seeds']))}). Over those seeds: accuracy "
             f"{r['accuracy']['mean']:.4f} ± {r['accuracy']['std']:.4f}, mean K {r['mean_k']['mean']:.3f} ± "
             f"{r['mean_k']['std']:.3f}. The whole table and the paired comparisons are in `models/README.md`."]
    for name, p in study.get("paired", {}).items():
        if name.startswith(router + " vs "):
            lines.append(f"- {name}: {100 * p['difference']:+.2f} points, 95% paired bootstrap CI "
                         f"[{100 * p['ci95'][0]:+.2f}, {100 * p['ci95'][1]:+.2f}]")
    return "\n".join(lines) + "\n"


def model_card(model: MoEClassifier, m: dict, study: Optional[dict] = None) -> str:
    cfg = model.cfg
    layers = "\n".join(
        f"| {i} | {k:.3f} | {' · '.join(str(c) for c in hist[1:])} | {' '.join(f'{s:.3f}' for s in share)} | "
        f"{m['dead_experts_per_layer'][i] or '—'} |"
        for i, (k, hist, share) in enumerate(zip(m["mean_k_per_layer"], m["k_histogram_per_layer"],
                                                 m["expert_load_share_per_layer"])))
    minutes = (m.get("train_seconds") or 0) / 60
    k_cols = " · ".join(f"K={k}" for k in range(1, len(m["k_histogram_per_layer"][0])))
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
{_router_rule(model, m['contract'] | {'study_router': m.get('study_router')})}
Load balancing: Switch-style loss `E · Σ_e f_e · P_e`, weight {cfg.router.balance_loss_weight}, summed over layers.

## Data
GLUE SST-2 (Socher et al., 2013; Wang et al., 2018) as re-split in `../shared/data/sst2/`: trained on
`train-minus-sentence-dev.tsv` (54,129 rows, none of them a phrase of a validation sentence); checkpoint chosen on
`sentence-dev.tsv` (678 whole sentences). The figures below are on sentence-dev; dev.tsv (6,735 rows, mostly
phrases of training sentences) is given only as a secondary figure.

## Results on sentence-dev
- accuracy: **{m['accuracy']:.4f}** ({m['examples']} sentences, {m['tokens']} tokens incl. [CLS]/[SEP]); dev.tsv:
  {m['dev_accuracy']:.4f}
- mean active experts per token (ΣK / tokens): **{m['mean_k']:.3f}**; tokens at the most common K (K={m['most_common_k']}):
  {m['most_common_k_share']:.1%}
- expert compute: {m['expert_gflops_per_token'] * 1e3:.3f} MFLOPs per token over all layers
- PyTorch eager latency, one sentence of 32 tokens, 1 thread: {m['torch_latency_ms_T32_1thread']} ms

| layer | mean K | tokens at {k_cols} | expert load share (experts 0..{cfg.num_experts - 1}) | dead experts |
| --- | --- | --- | --- | --- |
{layers}
{_importance_checks(m, cfg.num_layers)}{_study(m, study)}
## Training
3 epochs ({m.get('train_steps')} steps, batch 64) of AdamW (lr 1e-3, warm-up 300 steps then linear decay to 0),
each training row's positions started at a random offset in [0, 64] (most rows are short phrases; this trains the
positions of whole sentences), dropout {cfg.dropout}, weight decay 0.01, seed {m.get('seed')}, {m.get('train_threads')} torch thread; evaluated on
sentence-dev every 200 steps, the best checkpoint kept (step {m.get('best_step')}). {minutes:.1f} minutes of training
step time on {m['machine']}, with another run training on the other core.

Reproduce: `{m['reproduce']}` (the whole study; this model is `training/runs/study/{m.get('study_router')}-s{m.get('seed')}`).
"""


def _lm_row(m: dict, label: str) -> str:
    return (f"| {label} | {m['perplexity']:.1f} | {m['prefix']['perplexity']:.1f} | {m['top1_accuracy']:.1%} | "
            f"{m['top5_accuracy']:.1%} | {m['mean_k']:.3f} | {(m.get('train_seconds') or 0) / 60:.1f} |")


def lm_model_card(model: MoEClassifier, m: dict) -> str:
    """The card of a causal LM (training/export_lm.py)."""
    cfg = model.cfg
    k_cols = " · ".join(f"K={k}" for k in range(1, len(m["k_histogram_per_layer"][0])))
    layers = "\n".join(
        f"| {i} | {k:.3f} | {' · '.join(str(c) for c in hist[1:])} | "
        f"{' · '.join('—' if v is None else f'{v:.2f}' for v in loss[1:])} | {m['dead_experts_per_layer'][i] or '—'} |"
        for i, (k, hist, loss) in enumerate(zip(m["mean_k_per_layer"], m["k_histogram_per_layer"],
                                                m["mean_loss_by_k_per_layer"])))
    compare = m.get("compare")
    rows = [_lm_row(m, f"**{m['model']}** ({m['router']})")]
    verdict = ""
    if compare:
        rows.append(_lm_row(compare, f"fixed top-{compare['contract_k'] if 'contract_k' in compare else 2} "
                                     f"({compare['router']}, `{compare['run_dir']}`)"))
        d = m["perplexity"] - compare["perplexity"]
        dp = m["prefix"]["perplexity"] - compare["prefix"]["perplexity"]
        verdict = (f"\nAt about the same expert compute (mean K {m['mean_k']:.2f} against 2), DA-MoE's perplexity is "
                   f"{d:+.1f} against the fixed top-2 LM (teacher-forced) and {dp:+.1f} prefix-only: "
                   + ("**no gain from DA-MoE routing** on this data (one seed each; a negative result)."
                      if d >= 0 else "lower, from one seed each (not a tested difference).") + "\n")
    leak = m["prefix"]["perplexity"] - m["perplexity"]
    minutes = (m.get("train_seconds") or 0) / 60
    return f"""# {m['model']}

A causal (next-token) DA-MoE language model over the text of GLUE SST-2, trained from scratch by `training/` in this
repository with the same blocks, routers (`training/damoe/routing.py`, `KRule`) and schedule as the shipped
classifiers. It follows contract v2 (`docs/model-contract.md#causal-language-models`): `model.onnx` gives
`token_loss` and the top-5 next-token predictions in-graph, so the inspector never moves [B, T, V] logits.

## Architecture
- {cfg.num_layers} pre-LayerNorm decoder blocks under a causal mask, d_model {cfg.d_model}, {cfg.num_heads} heads,
  learned positions (max {cfg.max_seq_len}), vocabulary {cfg.vocab_size} (the WordPiece of `models/damoe-sst2`,
  lower-cased; `[CLS]` opens and `[SEP]` ends each text).
- Each FFN is an MoE layer of {cfg.num_experts} experts ({cfg.d_model}→{cfg.expert_hidden}→{cfg.d_model}, GELU), sparse dispatch.
- Next-token head tied to the input embedding (scaled by 1/√d).
- {m['parameters']:,} parameters; `model.onnx` {m['model_onnx_bytes'] / 2**20:.1f} MiB (fp32, opset 17).

## Router
{_router_rule(model, m['contract'] | {'study_router': m.get('router')})}
Received attention is corrected for the causal mask: `received_correction = "{cfg.router.received_correction}"`
(`training/damoe/config.py`): without it the first tokens, seen by every later query, would get the most experts
whatever the model attends to (`training/tests/test_causal_lm.py` shows the bias on constructed attention and its
absence with the correction). Load balancing: Switch-style loss, weight {cfg.router.balance_loss_weight}.

**K reads later tokens.** A token's K comes from the attention it *receives*, i.e. from the tokens after it, so in
one teacher-forced pass (what the inspector runs, and `token_loss`) the prediction of token t can depend on token t
itself through the K of the tokens before it. The prefix-only perplexity runs every prefix on its own (what
generation would see); the gap, {leak:+.1f}, measures that leak.

## Data
Trained on the sentences of `../shared/data/sst2/train-minus-sentence-dev.tsv` (54,129 rows, labels unused; none
is a phrase of a validation sentence); checkpoint chosen and figures given on `sentence-dev.tsv` ({m['examples']}
whole sentences, {m['scored_tokens']} scored tokens: every token after `[CLS]`, `[SEP]` included).

## Results on sentence-dev
- perplexity: **{m['perplexity']:.1f}** teacher-forced (mean loss {m['mean_loss']:.3f} nats); prefix-only
  {m['prefix']['perplexity']:.1f}
- next token is the first prediction {m['top1_accuracy']:.1%} of the time, among the top 5 {m['top5_accuracy']:.1%}
- mean active experts per token: **{m['mean_k']:.3f}** (calibrated to 2.0 on training batches)

| layer | mean K | tokens at {k_cols} | mean loss (nats) at {k_cols} | dead experts |
| --- | --- | --- | --- | --- |
{layers}

"Mean loss at K" pairs each scored token's loss with that token's own K in the layer. A token's K does not enter
its own loss (that is computed at the position before it), so the columns say whether the router spends experts on
the tokens that are hard to predict, not what the experts bought.

## Against a fixed top-2 LM trained the same way

| model | perplexity | prefix-only | top-1 | top-5 | mean K | training (min) |
| --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
{verdict}
## Training
{m.get('epochs')} epochs ({m.get('train_steps')} steps, batch 64) of AdamW (lr 1e-3, warm-up 300 steps then linear decay to 0),
positions started at a random offset in [0, 64], dropout {cfg.dropout}, weight decay 0.01, seed {m.get('seed')},
{m.get('train_threads')} torch thread; sentence-dev perplexity every 400 steps, the best checkpoint kept (step
{m.get('best_step')}). {minutes:.1f} minutes of training step time on {m['machine']}, beside the top-2 run and
other work on a 2-core machine.

Reproduce: `{m.get('command')}`, then `/usr/bin/python3 training/export_lm.py --run {m['run_dir']} --out models/{m['model']}`
{'`--compare ' + compare['run_dir'] + '`' if compare else ''}.
"""
