#!/usr/bin/env python3
"""Evaluates a training run on a GLUE TSV: accuracy, mean K per layer, expert load, expert FLOPs.

  /usr/bin/python3 training/evaluate.py --run training/runs/study/damoe-mean-s1
  /usr/bin/python3 training/evaluate.py --run training/runs/study/damoe-mean-s1 --k-scale-sweep 0.3,0.4,0.5,0.75,1

The default evaluation set is sentence-dev.tsv (whole sentences); pass --dev-file for another.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from damoe.config import ConfigError  # noqa: E402
from damoe.glue import DataError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DEV = os.path.join(HERE, "..", "..", "shared", "data", "sst2", "sentence-dev.tsv")


def evaluate_run(run_dir: str, dev_file: str, tokenizer_path: str, **router_overrides) -> dict:
    from damoe.checkpoint import load_run
    from damoe.evaluation import encode_file, evaluate
    from damoe.wordpiece import WordPieceTokenizer

    model, ckpt = load_run(run_dir, **router_overrides)
    tok = WordPieceTokenizer.from_file(tokenizer_path)
    return evaluate(model, *encode_file(tok, dev_file, ckpt["train_config"]["label_values"], model.cfg.max_seq_len))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--dev-file", default=DEFAULT_DEV)
    p.add_argument("--tokenizer", default=os.path.join(HERE, "runs", "tokenizer.json"))
    p.add_argument("--k-scale-sweep", default=None, help="comma-separated k_scale values to evaluate (DA-MoE)")
    p.add_argument("--sweep-out", default=None, help="write the k_scale sweep as JSON to this file")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    if args.k_scale_sweep:
        rows = []
        for s in (float(v) for v in args.k_scale_sweep.split(",")):
            m = evaluate_run(args.run, args.dev_file, args.tokenizer, k_scale=s)
            rows.append({"k_scale": s, "accuracy": m["accuracy"], "mean_k": m["mean_k"],
                         "mean_k_per_layer": m["mean_k_per_layer"]})
            print(f"k_scale {s:.3f}: accuracy {m['accuracy']:.4f} mean K {m['mean_k']:.3f}", flush=True)
        print(json.dumps(rows))
        if args.sweep_out:
            from damoe.wordpiece import write_atomic
            write_atomic(args.sweep_out, (json.dumps(rows, indent=1) + "\n").encode("utf-8"))
    else:
        m = evaluate_run(args.run, args.dev_file, args.tokenizer)
        m.pop("predictions")
        print(json.dumps(m, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ConfigError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
