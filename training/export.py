#!/usr/bin/env python3
"""Exports a training run to a model directory in the DA-MoE Inspector contract.

Writes model.onnx (with `moe.contract` metadata), the GPU graph model.gpu.onnx beside it (dense-masked experts, its
weights read from model.onnx), tokenizer.json, metrics.json and the README.md model card, and the PyTorch parity
fixture test/fixtures/parity/NAME.json. Every file is written to a temporary path and
renamed, so an interrupted export never leaves a half model over a good one.

  /usr/bin/python3 training/export.py --run training/runs/damoe-sst2 --out models/damoe-sst2

--gpu-only writes only model.gpu.onnx, for a model.onnx already exported from the same run (it is checked).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from damoe.config import ConfigError  # noqa: E402
from damoe.export_dir import (DATA, PARITY_DIR, ROOT, TRAINING as HERE, load_checked_run, parity_sentences,  # noqa: E402
                              run_main, write_model_files, write_parity_fixture)


def parity_fixture(model, tok, sentences) -> dict:
    import torch
    cases = []
    model.eval()
    with torch.no_grad():
        for text in sentences:
            ids = tok.encode(text)
            t = torch.tensor([ids])
            out = model(t, torch.ones_like(t))
            cases.append({
                "text": text,
                "input_ids": ids,
                "logits": [round(v, 7) for v in out.logits[0].tolist()],
                "expert_count": out.expert_count[:, 0].tolist(),
                "expert_gates": [[[round(g, 8) for g in row] for row in layer]
                                 for layer in out.expert_gates[:, 0].tolist()],
                "token_importance": [[round(v, 7) for v in layer] for layer in out.importance[:, 0].tolist()],
            })
    return {"source": "training/export.py (PyTorch eager, CPU, fp32)", "torch": torch.__version__, "cases": cases}


def study_router(run_dir: str):
    """The study router a run directory belongs to (ROUTER-sSEED), or None."""
    from damoe.presets import RUN_NAME
    m = RUN_NAME.match(os.path.basename(os.path.normpath(run_dir)))
    return m.group("router") if m else None


def importance_checks(model, tok, seqs) -> dict:
    """Occlusion against importance on 200 validation sentences, and K by word class on all of them."""
    from damoe.importance_check import k_by_word_class, occlusion
    id_to_piece = {i: p for p, i in tok.vocab.items()}
    return {"occlusion": occlusion(model, seqs), "k_by_word_class": k_by_word_class(model, seqs, id_to_piece)}


def time_forward(model, length: int, threads: int, repeats: int = 50) -> float:
    import torch
    torch.set_num_threads(threads)
    ids = torch.randint(5, model.cfg.vocab_size, (1, length))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        for _ in range(5):
            model(ids, mask)
        t = time.perf_counter()
        for _ in range(repeats):
            model(ids, mask)
    return (time.perf_counter() - t) / repeats * 1000


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="training run directory (holds best.pt)")
    p.add_argument("--out", required=True, help="model directory to write, e.g. models/damoe-sst2")
    p.add_argument("--valid-file", default=os.path.join(DATA, "sentence-dev.tsv"),
                   help="the validation set the card's figures are on (whole sentences)")
    p.add_argument("--dev-file", default=os.path.join(DATA, "dev.tsv"), help="secondary figures (phrases)")
    p.add_argument("--study", default=os.path.join(ROOT, "models", "study.json"),
                   help="training/compare.py's study, for the card's comparison (optional)")
    p.add_argument("--tokenizer", default=os.path.join(HERE, "runs", "tokenizer.json"))
    p.add_argument("--parity-dir", default=PARITY_DIR)
    p.add_argument("--gpu-only", action="store_true",
                   help="write only model.gpu.onnx beside the existing model.onnx of this run")
    args = p.parse_args(argv)

    import torch

    from damoe.checkpoint import run_summary
    from damoe.export_onnx import GPU_GRAPH_FILE, export_gpu
    from damoe.wordpiece import write_atomic
    from damoe.evaluation import encode_file, evaluate

    torch.set_num_threads(1)
    model, ckpt, tok = load_checked_run(args.run, args.tokenizer)
    name = os.path.basename(os.path.normpath(args.out))
    labels = ckpt["train_config"]["labels"]
    model_path = os.path.join(args.out, "model.onnx")
    if args.gpu_only:
        if not os.path.exists(model_path):
            raise ConfigError(f"--gpu-only needs {model_path}, exported from the same run: export without it first")
        try:
            gpu = export_gpu(model, model_path, labels, pad_id=model.cfg.pad_id)
        except ValueError as e:
            raise ConfigError(str(e)) from e
        gpu_size = os.path.getsize(os.path.join(args.out, GPU_GRAPH_FILE))
        print(f"{name}: {GPU_GRAPH_FILE} ({gpu['expert_compute']}, {gpu_size / 1024:.0f} KiB) -> {args.out}")
        return 0

    meta, size = write_model_files(model, args.out, labels, args.tokenizer)

    label_values = ckpt["train_config"]["label_values"]
    valid = encode_file(tok, args.valid_file, label_values, model.cfg.max_seq_len)
    metrics = evaluate(model, *valid)
    metrics.pop("predictions")
    metrics["dev_accuracy"] = evaluate(model, *encode_file(tok, args.dev_file, label_values,
                                                          model.cfg.max_seq_len))["accuracy"]
    metrics["importance_check"] = importance_checks(model, tok, valid[0])
    summary = run_summary(args.run)
    n_params = sum(p.numel() for p in model.parameters())
    metrics.update({
        "model": name,
        "valid_file": os.path.relpath(os.path.abspath(args.valid_file), ROOT),
        "dev_file": os.path.relpath(os.path.abspath(args.dev_file), ROOT),
        "seed": ckpt["train_config"].get("seed"),
        "study_router": study_router(args.run),
        "parameters": n_params,
        "model_onnx_bytes": size,
        "train_seconds": summary.get("total_train_seconds", summary.get("train_seconds")),
        "train_steps": summary.get("total_steps", summary.get("steps")),
        "train_threads": summary.get("threads"),
        "best_step": ckpt["metrics"].get("step"),
        "torch_latency_ms_T32_1thread": round(time_forward(model, 32, 1), 3),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}",
        "contract": meta,
        "reproduce": "bash training/train.sh",
        "trained_k_scale": ckpt["model_config"]["router"].get("k_scale"),
        # Where the shipped weights came from, so benchmarks can run PyTorch on exactly these weights and settings.
        "run_dir": os.path.relpath(os.path.abspath(args.run), ROOT),
        "router_overrides": {},
    })
    write_atomic(os.path.join(args.out, "metrics.json"), json.dumps(metrics, indent=1).encode("utf-8"))

    write_parity_fixture(args.parity_dir, name, parity_fixture(model, tok, parity_sentences()))

    from model_card import model_card
    study = None
    if os.path.exists(args.study):
        with open(args.study, encoding="utf-8") as f:
            study = json.load(f)
    write_atomic(os.path.join(args.out, "README.md"), model_card(model, metrics, study).encode("utf-8"))
    print(f"{name}: sentence-dev accuracy {metrics['accuracy']:.4f}, mean K {metrics['mean_k']:.3f}, "
          f"model.onnx {size / 2**20:.1f} MiB -> {args.out}")
    return 0


if __name__ == "__main__":
    run_main(main)
