"""PyTorch eager forward-pass latency of a trained DA-MoE checkpoint, for bench/engine-latency.ts.

Reads a JSON request on stdin: {"run_dir": DIR, "router_overrides": {...}, "threads": N, "iters": N, "warmup": N,
"inputs": {"16": [ids...], ...}} and writes one JSON object to stdout:
{"ok": true, "ms": {"16": {"median": .., "p90": ..}, ...}} or {"ok": false, "reason": "..."}.
The same token ids as the ONNX side are used, batch 1, no padding, under torch.inference_mode.
"""
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(reason):
    print(json.dumps({"ok": False, "reason": reason}))
    sys.exit(0)


def main():
    req = json.load(sys.stdin)
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
    out = {}
    with torch.inference_mode():
        for length, ids in req["inputs"].items():
            x = torch.tensor([ids], dtype=torch.int64)
            mask = torch.ones_like(x)
            for _ in range(int(req["warmup"])):
                model(x, mask)
            times = []
            for _ in range(int(req["iters"])):
                t0 = time.perf_counter()
                model(x, mask)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            out[length] = {"median": statistics.median(times), "p90": times[min(len(times) - 1, int(0.9 * len(times)))]}
    print(json.dumps({"ok": True, "ms": out, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
