#!/usr/bin/env python3
"""Training step time of the shipped backbone on CPU, as ratios measured in one run.

Each configuration runs in its own process (OpenBLAS reads its thread count once, when torch loads it) on the same
batches of train-minus-sentence-dev.tsv (batch 64, length-bucketed, seed 0), and times --steps optimizer steps
after 5 warm-ups. With --concurrent N (default 2, as training/train.sh runs one job per core), N copies of each
configuration run at once, as in the study; with 1 the other cores stay idle. Configurations:
  - blas-default: torch.set_num_threads(1) only, OpenBLAS left at its default pool (one thread per core): what
    training/train.py did before it set OPENBLAS_NUM_THREADS;
  - blas-1: OPENBLAS_NUM_THREADS=1 as train.py sets it now;
  - dense-experts: blas-1 with every expert run on every token, masked by its gate (the dense reference path).

  /usr/bin/python3 bench/training_step.py [--steps 60] [--router damoe-calibrated] [--concurrent 2]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.join(os.path.dirname(HERE), "training")
DATA = os.path.join(os.path.dirname(HERE), "..", "shared", "data", "sst2", "train-minus-sentence-dev.tsv")


def child(args) -> None:
    import random
    import time

    sys.path.insert(0, TRAINING)
    import torch
    import torch.nn.functional as F

    from damoe.batching import bucketed_indices, pad_batch
    from damoe.glue import read_glue_tsv
    from damoe.model import MoEClassifier
    from damoe.presets import preset_model_config
    from damoe.wordpiece import WordPieceTokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    tok = WordPieceTokenizer.from_file(args.tokenizer)
    rows = read_glue_tsv(args.data, ["0", "1"])[:20000]
    seqs = [tok.encode(e.text, max_len=128) for e in rows]
    labels = [e.label for e in rows]
    model = MoEClassifier(preset_model_config(args.router, len(tok.vocab))).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = list(bucketed_indices([len(s) for s in seqs], 64, random.Random(0)))[:args.steps + 5]
    times = []
    for n, idx in enumerate(batches):
        ids, mask = pad_batch([seqs[i] for i in idx], 0)
        y = torch.tensor([labels[i] for i in idx])
        t = time.perf_counter()
        out = model(ids, mask, dense=args.dense)
        loss = F.cross_entropy(out.logits, y) + 0.01 * out.aux_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if n >= 5:
            times.append(time.perf_counter() - t)
    times.sort()
    print(json.dumps({"median_s": times[len(times) // 2], "mean_s": sum(times) / len(times), "steps": len(times)}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--router", default="damoe-calibrated")
    p.add_argument("--data", default=DATA)
    p.add_argument("--tokenizer", default=os.path.join(TRAINING, "runs", "tokenizer.json"))
    p.add_argument("--concurrent", type=int, default=2, help="copies of each configuration run at once")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--dense", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    for f in (args.data, args.tokenizer):
        if not os.path.exists(f):
            print(f"error: {f} not found (the tokenizer comes from bash training/train.sh)", file=sys.stderr)
            return 2
    configs = [("blas-default", {}, []), ("blas-1", {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}, []),
               ("dense-experts", {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}, ["--dense"])]
    results = {}
    base_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    for name, env, extra in configs:
        cmd = [sys.executable, __file__, "--child", "--steps", str(args.steps), "--router", args.router,
               "--data", args.data, "--tokenizer", args.tokenizer] + extra
        procs = [subprocess.Popen(cmd, env={**base_env, **env}, stdout=subprocess.PIPE, text=True)
                 for _ in range(args.concurrent)]
        medians = []
        for proc in procs:
            out, _ = proc.communicate()
            if proc.returncode:
                raise SystemExit(f"error: {name} failed (exit {proc.returncode})")
            medians.append(json.loads(out.strip().splitlines()[-1])["median_s"])
        results[name] = {"median_s": sum(medians) / len(medians)}
        print(f"{name:14s} median {results[name]['median_s'] * 1e3:7.1f} ms/step "
              f"(mean of {args.concurrent} concurrent runs)", flush=True)
    base = results["blas-1"]["median_s"]
    for name in ("blas-default", "dense-experts"):
        print(f"{name} / blas-1: {results[name]['median_s'] / base:.2f}x")
    steps_3_epochs = 3 * 846
    print(f"3 epochs ({steps_3_epochs} steps) at the blas-1 median: {steps_3_epochs * base / 60:.1f} min of step time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
