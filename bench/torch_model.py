"""Shared by the PyTorch side of the benchmarks: the JSON failure reply and loading the model's weights."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(reason):
    """Replies {"ok": false, "reason": ...} on stdout; the Node side reports it instead of a PyTorch figure."""
    print(json.dumps({"ok": False, "reason": reason}))
    sys.exit(0)


def load_model(req):
    """Returns (torch, model) for the request and its threads, or fails with a reason.

    {"onnx": PATH}: the model rebuilt from that model.onnx's own weights (bench/onnx_peer.py);
    {"run_dir": DIR, "router_overrides": {...}}: a training run's DIR/best.pt (training/damoe/checkpoint.py)."""
    try:
        import torch
    except ImportError as e:
        fail(f"PyTorch is not importable by {sys.executable}: {e}")
    torch.set_num_threads(max(1, int(req["threads"])))
    if req.get("onnx"):
        if not os.path.exists(req["onnx"]):
            fail(f"model not found: {req['onnx']}")
        try:
            import onnx  # noqa: F401
        except ImportError as e:
            fail(f"the onnx package is not importable by {sys.executable} (Debian: python3-onnx): {e}")
        from onnx_peer import OnnxPeerError, model_from_onnx

        try:
            model, _, _ = model_from_onnx(req["onnx"])
        except OnnxPeerError as e:
            fail(f"cannot rebuild a PyTorch model from it: {e}")
        return torch, model
    run_dir = req["run_dir"]
    ckpt_path = os.path.join(run_dir, "best.pt")
    if not os.path.exists(ckpt_path):
        fail(f"checkpoint not found: {ckpt_path} (train the model first: training/train.sh)")
    sys.path.insert(0, os.path.join(ROOT, "training"))
    from damoe.checkpoint import load_run

    model, _ = load_run(run_dir, **req.get("router_overrides", {}))
    return torch, model
