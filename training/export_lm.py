#!/usr/bin/env python3
"""Exports a causal-LM training run (train_lm.py) to a model directory in the inspector's contract v2.

Writes model.onnx (token_loss and the top-5 next-token outputs in-graph, `moe.contract` metadata with
"task": "causal-lm"), its GPU graph model.gpu.onnx (dense-masked experts, weights read from model.onnx), tokenizer.json, metrics.json (sentence-dev perplexity teacher-forced and prefix-only, mean K
and K histograms per layer, mean loss per K, and the same figures for --compare, a fixed top-2 LM trained the same
way), the README.md model card, and the PyTorch parity fixture test/fixtures/parity/NAME.json (per-token loss,
top-5 and K for training/parity_sentences.txt). Every file is written to a temporary path and renamed.

  /usr/bin/python3 training/export_lm.py --run training/runs/lm/damoe-lm-s1-e5 --out models/damoe-lm-sst2 \\
      --compare training/runs/lm/top2-lm-s1-e5
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from damoe.config import ConfigError  # noqa: E402
from damoe.export_dir import (DATA, PARITY_DIR, ROOT, load_checked_run, parity_sentences, run_main,  # noqa: E402
                              write_model_files, write_parity_fixture)
from damoe.glue import read_glue_tsv  # noqa: E402


def parity_fixture(model, tok, sentences) -> dict:
    import torch
    from damoe.lm import token_losses
    cases = []
    model.eval()
    with torch.no_grad():
        for text in sentences:
            ids = torch.tensor([tok.encode(text)])
            mask = torch.ones_like(ids)
            out = model(ids, mask)
            top = torch.log_softmax(out.logits[0], -1).topk(5, -1)
            cases.append({
                "text": text,
                "input_ids": ids[0].tolist(),
                "token_loss": [round(v, 6) for v in token_losses(out.logits, ids, mask)[0].tolist()],
                "top5_ids": top.indices.tolist(),
                "top5_logprobs": [[round(v, 6) for v in row] for row in top.values.tolist()],
                "expert_count": out.expert_count[:, 0].tolist(),
            })
    return {"source": "training/export_lm.py (PyTorch eager, CPU, fp32)", "torch": torch.__version__, "cases": cases}


def run_figures(run_dir: str, seqs) -> dict:
    from damoe.checkpoint import load_run, run_summary
    from damoe.lm import evaluate_lm, prefix_perplexity
    model, ckpt = load_run(run_dir)
    m = evaluate_lm(model, seqs)
    m["prefix"] = prefix_perplexity(model, seqs)
    summary = run_summary(run_dir)
    m.update(run_dir=os.path.relpath(os.path.abspath(run_dir), ROOT), router=ckpt["args"]["preset"],
             best_step=ckpt["metrics"]["step"], train_seconds=summary.get("train_seconds"),
             train_steps=summary.get("steps"), train_threads=summary.get("threads"),
             command=summary.get("command"), epochs=ckpt["args"]["epochs"], seed=ckpt["args"]["seed"])
    return m


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="causal-LM training run directory (holds best.pt)")
    p.add_argument("--out", required=True, help="model directory to write, e.g. models/damoe-lm-sst2")
    p.add_argument("--compare", default=None, help="a fixed top-k LM run trained the same way, for the card")
    p.add_argument("--valid-file", default=os.path.join(DATA, "sentence-dev.tsv"))
    p.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "damoe-sst2", "tokenizer.json"))
    p.add_argument("--parity-dir", default=PARITY_DIR)
    args = p.parse_args(argv)

    import torch

    from damoe.wordpiece import write_atomic
    from model_card import lm_model_card

    torch.set_num_threads(1)
    model, _, tok = load_checked_run(args.run, args.tokenizer)
    if not model.causal:
        raise ConfigError(f"{args.run} is not a causal LM run (task {model.cfg.task}); use training/export.py")
    name = os.path.basename(os.path.normpath(args.out))
    meta, size = write_model_files(model, args.out, (), args.tokenizer)

    seqs = [tok.encode(e.text, max_len=model.cfg.max_seq_len) for e in read_glue_tsv(args.valid_file)]
    metrics = run_figures(args.run, seqs)
    metrics.update({
        "model": name,
        "valid_file": os.path.relpath(os.path.abspath(args.valid_file), ROOT),
        "parameters": sum(p.numel() for p in model.parameters()),
        "model_onnx_bytes": size,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}",
        "contract": meta,
    })
    if args.compare:
        metrics["compare"] = run_figures(args.compare, seqs)
    write_atomic(os.path.join(args.out, "metrics.json"), json.dumps(metrics, indent=1).encode("utf-8"))
    write_parity_fixture(args.parity_dir, name, parity_fixture(model, tok, parity_sentences()))
    write_atomic(os.path.join(args.out, "README.md"), lm_model_card(model, metrics).encode("utf-8"))
    print(f"{name}: sentence-dev perplexity {metrics['perplexity']:.2f} (prefix-only {metrics['prefix']['perplexity']:.2f}), "
          f"mean K {metrics['mean_k']:.3f}, model.onnx {size / 2**20:.1f} MiB -> {args.out}")
    return 0


if __name__ == "__main__":
    run_main(main)
