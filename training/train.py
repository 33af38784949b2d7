#!/usr/bin/env python3
"""Trains one model of the study on GLUE SST-2 and keeps the checkpoint with the best validation accuracy.

Trains on train-minus-sentence-dev.tsv and chooses the checkpoint on sentence-dev.tsv (whole sentences, none of
whose phrases are trained on); see ../shared/data/README.md.

  /usr/bin/python3 training/train.py --preset damoe-calibrated --seed 1 --out training/runs/study/damoe-calibrated-s1
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

from damoe.config import ConfigError, TrainConfig  # noqa: E402
from damoe.glue import DataError, read_glue_tsv  # noqa: E402
from damoe.wordpiece import WordPieceTokenizer, tokenizer_json, train_wordpiece, write_atomic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", required=True, help="a router of damoe/presets.py: damoe-mean | damoe-corpus | "
                                                   "damoe-calibrated | top2 | switch")
    p.add_argument("--out", required=True, help="run directory (checkpoint, log, config)")
    p.add_argument("--tokenizer", default=os.path.join(HERE, "runs", "tokenizer.json"),
                   help="tokenizer.json to use; trained on the training file when it does not exist")
    p.add_argument("--train-file", default=os.path.join(HERE, "..", "..", "shared", "data", "sst2",
                                                        "train-minus-sentence-dev.tsv"))
    p.add_argument("--dev-file", default=os.path.join(HERE, "..", "..", "shared", "data", "sst2",
                                                      "sentence-dev.tsv"))
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; more than the idle cores makes OpenMP spin and run far slower")
    p.add_argument("--max-steps", type=int, default=None, help="stop early (for trials and tests)")
    p.add_argument("--eval-every", type=int, default=0, help="steps between dev evaluations; 0 = each epoch")
    p.add_argument("--k-scale", type=float, default=None, help="DA-MoE: override the preset's k_scale")
    p.add_argument("--importance-norm", default=None, help="DA-MoE: max | mean | sum")
    p.add_argument("--d-model", type=int, default=None, help="override the backbone width (tests)")
    p.add_argument("--layers", type=int, default=None, help="override the number of layers (tests)")
    p.add_argument("--init-from", default=None,
                   help="start from this run's best.pt (same architecture) instead of random weights")
    p.add_argument("--warmup-steps", type=int, default=300)
    p.add_argument("--position-shift", type=int, default=0,
                   help="start each training row's positions at a random offset in [0, N] (0: none)")
    p.add_argument("--mlm-epochs", type=int, default=0,
                   help="epochs of masked-LM pre-training on the training text before fine-tuning (0: none)")
    return p.parse_args(argv)


def load_or_train_tokenizer(path: str, train_texts, vocab_size: int) -> WordPieceTokenizer:
    if not os.path.exists(path):
        print(f"training a {vocab_size}-token WordPiece vocabulary -> {path}", flush=True)
        vocab = train_wordpiece(train_texts, vocab_size)
        write_atomic(path, json.dumps(tokenizer_json(vocab), ensure_ascii=False, indent=1).encode("utf-8"))
    return WordPieceTokenizer.from_file(path)


def main(argv=None) -> int:
    args = parse_args(argv)
    # OpenBLAS keeps a thread pool of its own that torch.set_num_threads does not reach. With the cores already
    # busy (a package install beside one run) its spinning threads made a step take 0.40 s instead of 0.14 s; with
    # only training runs on the machine it makes no measurable difference (bench/training_step.py). It reads the
    # variable once, when torch loads it, so it is set before the import.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    import torch
    import torch.nn.functional as F

    from damoe.batching import bucketed_indices, pad_batch
    from damoe.evaluation import evaluate
    from damoe.model import MoEClassifier
    from damoe.presets import preset_model_config

    tc = TrainConfig(name=args.preset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                     seed=args.seed, threads=args.threads, max_steps=args.max_steps,
                     eval_every=args.eval_every, warmup_steps=args.warmup_steps).validate()
    overrides = {}
    if args.k_scale is not None:
        overrides["k_scale"] = args.k_scale
    if args.importance_norm is not None:
        overrides["importance_norm"] = args.importance_norm
    train = read_glue_tsv(args.train_file, tc.label_values)
    dev = read_glue_tsv(args.dev_file, tc.label_values)
    tok = load_or_train_tokenizer(args.tokenizer, [e.text for e in train], args.vocab_size)
    cfg = preset_model_config(args.preset, len(tok.vocab), **overrides)
    if args.d_model:
        cfg.d_model, cfg.expert_hidden = args.d_model, 2 * args.d_model
    if args.layers:
        cfg.num_layers = args.layers
    cfg.validate()

    torch.manual_seed(tc.seed)
    torch.set_num_threads(tc.threads)
    rng = random.Random(tc.seed)
    encode = lambda e: tok.encode(e.text, e.pair, max_len=tc.max_train_len)  # noqa: E731
    train_seqs = [encode(e) for e in train]
    train_labels = [e.label for e in train]
    dev_seqs = [encode(e) for e in dev]
    dev_labels = [e.label for e in dev]

    model = MoEClassifier(cfg)
    if args.init_from:
        from damoe.checkpoint import load_run
        start, _ = load_run(args.init_from)
        if start.cfg.to_dict() != cfg.to_dict():
            raise ConfigError(f"--init-from {args.init_from} has a different model config than --preset {args.preset}")
        model.load_state_dict(start.state_dict())
    steps_per_epoch = math.ceil(len(train_seqs) / tc.batch_size)

    from damoe.optim import adamw_schedule, update as optim_update

    def optimizer(total_steps: int, warmup: int):
        return adamw_schedule(model, tc.lr, tc.weight_decay, total_steps, warmup)

    def update(o, sched, loss):
        optim_update(model, o, sched, loss)

    total = tc.epochs * steps_per_epoch if tc.max_steps is None else min(tc.max_steps, tc.epochs * steps_per_epoch)
    mlm_seconds = 0.0
    if args.mlm_epochs:
        # Masked-LM pre-training on the training text alone (labels unused), before fine-tuning; same batches.
        from damoe.mlm import mask_tokens
        mlm_total = args.mlm_epochs * steps_per_epoch if tc.max_steps is None else min(tc.max_steps, steps_per_epoch)
        o, sched = optimizer(mlm_total, tc.warmup_steps)
        g = torch.Generator().manual_seed(tc.seed)
        special = [tok.vocab[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")]
        model.train()
        mlm_step = 0
        while mlm_step < mlm_total:
            for idx in bucketed_indices([len(s) for s in train_seqs], tc.batch_size, rng):
                ts = time.time()
                ids, mask = pad_batch([train_seqs[i] for i in idx], cfg.pad_id)
                corrupted, positions, targets = mask_tokens(ids, mask, special, tok.vocab["[MASK]"], cfg.vocab_size, g)
                logits, aux = model.masked_lm(corrupted, mask, positions)
                loss = F.cross_entropy(logits, targets) + cfg.router.balance_loss_weight * aux
                update(o, sched, loss)
                mlm_step += 1
                mlm_seconds += time.time() - ts
                if mlm_step % 100 == 0:
                    print(f"mlm step {mlm_step}/{mlm_total} loss {loss.item():.4f} ({mlm_seconds:.0f}s)", flush=True)
                if mlm_step >= mlm_total:
                    break
    opt, sched = optimizer(total, tc.warmup_steps)
    shift_gen = torch.Generator().manual_seed(tc.seed + 1)

    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "log.jsonl")
    log = open(log_path, "w", encoding="utf-8")
    best = {"accuracy": -1.0}
    step, t0 = 0, time.time()
    train_seconds = 0.0

    def checkpoint(epoch: float):
        nonlocal best
        metrics = evaluate(model, dev_seqs, dev_labels)
        metrics.pop("predictions")
        metrics.update(step=step, epoch=epoch, train_seconds=round(train_seconds, 1))
        log.write(json.dumps(metrics) + "\n")
        log.flush()
        print(f"step {step} epoch {epoch:.2f}: dev acc {metrics['accuracy']:.4f} mean K {metrics['mean_k']:.3f} "
              f"most common K {metrics['most_common_k_share']:.0%} "
              f"({train_seconds:.0f}s)", flush=True)
        if metrics["accuracy"] > best["accuracy"]:
            best = metrics
            buf = io.BytesIO()
            torch.save({"model_config": cfg.to_dict(), "train_config": tc.__dict__, "metrics": metrics,
                        "state_dict": model.state_dict(), "args": vars(args)}, buf)
            write_atomic(os.path.join(args.out, "best.pt"), buf.getvalue())

    model.train()
    done = False
    for epoch in range(tc.epochs):
        for idx in bucketed_indices([len(s) for s in train_seqs], tc.batch_size, rng):
            ts = time.time()
            ids, mask = pad_batch([train_seqs[i] for i in idx], cfg.pad_id)
            y = torch.tensor([train_labels[i] for i in idx])
            shift = None
            if args.position_shift:
                shift = torch.randint(0, args.position_shift + 1, (len(idx),), generator=shift_gen)
            out = model(ids, mask, position_shift=shift)
            loss = F.cross_entropy(out.logits, y) + cfg.router.balance_loss_weight * out.aux_loss
            update(opt, sched, loss)
            step += 1
            train_seconds += time.time() - ts
            if step % 100 == 0:
                print(f"step {step}/{total} loss {loss.item():.4f} ({train_seconds:.0f}s)", flush=True)
            if tc.eval_every and step % tc.eval_every == 0:
                checkpoint(step / steps_per_epoch)
            if step >= total:
                done = True
                break
        if not tc.eval_every or step % tc.eval_every:
            checkpoint(step / steps_per_epoch)
        if done:
            break
    summary = {"best": best, "train_seconds": round(train_seconds + mlm_seconds, 1),
               "mlm_seconds": round(mlm_seconds, 1), "mlm_epochs": args.mlm_epochs, "wall_seconds": round(time.time() - t0, 1),
               "steps": step, "threads": tc.threads, "init_from": args.init_from}
    if args.init_from:
        from damoe.checkpoint import run_summary
        before = run_summary(args.init_from)
        summary["total_train_seconds"] = round(before.get("total_train_seconds", before.get("train_seconds", 0))
                                               + train_seconds, 1)
        summary["total_steps"] = before.get("total_steps", before.get("steps", 0)) + step
    else:
        summary["total_train_seconds"], summary["total_steps"] = summary["train_seconds"], step
    write_atomic(os.path.join(args.out, "summary.json"), json.dumps(summary, indent=1).encode("utf-8"))
    print(f"best dev accuracy {best['accuracy']:.4f} at step {best['step']}; training took {train_seconds:.0f}s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ConfigError, DataError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
