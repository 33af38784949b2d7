"""Shared by the PyTorch side of the benchmarks: the JSON failure reply and loading the shipped weights."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(reason):
    """Replies {"ok": false, "reason": ...} on stdout; the Node side reports it instead of a PyTorch figure."""
    print(json.dumps({"ok": False, "reason": reason}))
    sys.exit(0)


def load_model(req):
    """Returns (torch, model) for the request's run_dir, router_overrides and threads, or fails with a reason."""
    run_dir = req["run_dir"]
    ckpt_path = os.path.join(run_dir, "best.pt")
    if not os.path.exists(ckpt_path):
        fail(f"checkpoint not found: {ckpt_path} (train the model first: training/train.sh)")
    try:
        import torch
    except ImportError as e:
        fail(f"PyTorch is not importable by {sys.executable}: {e}")
    sys.path.insert(0, os.path.join(ROOT, "training"))
    from damoe.checkpoint import load_run

    torch.set_num_threads(max(1, int(req["threads"])))
    model, _ = load_run(run_dir, **req.get("router_overrides", {}))
    return torch, model
