#!/usr/bin/env python3
"""Trains a causal DA-MoE language model (task "causal-lm") on the text of SST-2 and keeps the checkpoint with the
lowest sentence-dev perplexity.

The same blocks, routers (damoe/routing.py, KRule) and schedule as the classifiers (train.py), under a causal mask,
with a next-token head tied to the input embedding. Trains on the sentences of train-minus-sentence-dev.tsv (labels
unused), chooses the checkpoint on sentence-dev.tsv. Uses the shipped WordPiece tokenizer by default.

  /usr/bin/python3 training/train_lm.py --preset damoe-lm --out training/runs/lm/damoe-lm-s1
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from damoe.config import ConfigError  # noqa: E402
from damoe.glue import DataError, read_glue_tsv  # noqa: E402
from damoe.wordpiece import WordPieceTokenizer, write_atomic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "..", "shared", "data", "sst2")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", required=True, help="a causal-LM router of damoe/presets.py: damoe-lm | top2-lm")
    p.add_argument("--out", required=True, help="run directory (best.pt, log.jsonl, summary.json)")
    p.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "damoe-sst2", "tokenizer.json"))
    p.add_argument("--train-file", default=os.path.join(DATA, "train-minus-sentence-dev.tsv"))
    p.add_argument("--dev-file", default=os.path.join(DATA, "sentence-dev.tsv"))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-steps", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=None, help="stop early (trials and tests)")
    p.add_argument("--eval-every", type=int, default=400, help="steps between sentence-dev evaluations")
    p.add_argument("--position-shift", type=int, default=64,
                   help="start each training row's positions at a random offset in [0, N] (0: none)")
    p.add_argument("--max-train-len", type=int, default=128)
    p.add_argument("--d-model", type=int, default=None, help="override the backbone width (tests)")
    p.add_argument("--layers", type=int, default=None, help="override the number of layers (tests)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):  # see train.py: read once, when torch loads
        os.environ.setdefault(var, str(args.threads))
    import torch

    from damoe.batching import bucketed_indices, pad_batch
    from damoe.lm import evaluate_lm, lm_loss
    from damoe.model import MoEClassifier
    from damoe.optim import adamw_schedule, update
    from damoe.presets import LM_PRESETS, preset_model_config

    if args.preset not in LM_PRESETS:
        raise ConfigError(f"--preset must be a causal-LM preset, one of {sorted(LM_PRESETS)}; got {args.preset!r}")
    if not os.path.exists(args.tokenizer):
        raise ConfigError(f"tokenizer not found: {args.tokenizer}")
    tok = WordPieceTokenizer.from_file(args.tokenizer)
    cfg = preset_model_config(args.preset, len(tok.vocab))
    if args.d_model:
        cfg.d_model, cfg.expert_hidden = args.d_model, 2 * args.d_model
    if args.layers:
        cfg.num_layers = args.layers
    cfg.validate()
    train = [tok.encode(e.text, max_len=args.max_train_len) for e in read_glue_tsv(args.train_file)]
    dev = [tok.encode(e.text, max_len=cfg.max_seq_len) for e in read_glue_tsv(args.dev_file)]

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    model = MoEClassifier(cfg)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = args.epochs * steps_per_epoch if args.max_steps is None else min(args.max_steps,
                                                                             args.epochs * steps_per_epoch)
    opt, sched = adamw_schedule(model, args.lr, args.weight_decay, total, args.warmup_steps)
    shift_gen = torch.Generator().manual_seed(args.seed + 1)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "log.jsonl"), "w", encoding="utf-8")
    train_config = {k: v for k, v in vars(args).items()}
    best = {"perplexity": math.inf}
    step, t0, train_seconds = 0, time.time(), 0.0

    def checkpoint():
        nonlocal best
        metrics = evaluate_lm(model, dev)
        metrics.update(step=step, epoch=step / steps_per_epoch, train_seconds=round(train_seconds, 1))
        log.write(json.dumps(metrics) + "\n")
        log.flush()
        print(f"step {step} epoch {step / steps_per_epoch:.2f}: dev perplexity {metrics['perplexity']:.2f} "
              f"mean K {metrics['mean_k']:.3f} ({train_seconds:.0f}s)", flush=True)
        if metrics["perplexity"] < best["perplexity"]:
            best = metrics
            buf = io.BytesIO()
            torch.save({"model_config": cfg.to_dict(), "train_config": train_config, "metrics": metrics,
                        "state_dict": model.state_dict(), "args": vars(args)}, buf)
            write_atomic(os.path.join(args.out, "best.pt"), buf.getvalue())

    model.train()
    while step < total:
        for idx in bucketed_indices([len(s) for s in train], args.batch_size, rng):
            ts = time.time()
            ids, mask = pad_batch([train[i] for i in idx], cfg.pad_id)
            shift = None
            if args.position_shift:
                shift = torch.randint(0, args.position_shift + 1, (len(idx),), generator=shift_gen)
            out = model(ids, mask, position_shift=shift)
            loss = lm_loss(out.logits, ids, mask) + cfg.router.balance_loss_weight * out.aux_loss
            update(model, opt, sched, loss)
            step += 1
            train_seconds += time.time() - ts
            if step % 50 == 0:
                print(f"step {step}/{total} loss {loss.item():.4f} ({train_seconds:.0f}s)", flush=True)
            if step % args.eval_every == 0 or step >= total:
                checkpoint()
            if step >= total:
                break
    summary = {"best": best, "train_seconds": round(train_seconds, 1), "wall_seconds": round(time.time() - t0, 1),
               "steps": step, "threads": args.threads, "total_train_seconds": round(train_seconds, 1),
               "total_steps": step, "command": "/usr/bin/python3 training/train_lm.py " + " ".join(
                   sys.argv[1:] if argv is None else argv)}
    write_atomic(os.path.join(args.out, "summary.json"), json.dumps(summary, indent=1).encode("utf-8"))
    print(f"best sentence-dev perplexity {best['perplexity']:.2f} at step {best['step']}; "
          f"training took {train_seconds:.0f}s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ConfigError, DataError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
