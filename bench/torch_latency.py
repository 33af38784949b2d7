"""PyTorch eager forward-pass latency of a DA-MoE model, for bench/engine-latency.ts.

Reads a JSON request on stdin: {"onnx": PATH} or {"run_dir": DIR, "router_overrides": {...}} (see torch_model.py),
with "threads": N, "iters": N, "warmup": N, "inputs": {"16": [ids...], ...}, and writes one JSON object to stdout:
{"ok": true, "ms": {"16": {"median": .., "p90": ..}, ...}, "outputs": {"16": {"probabilities": [..],
"expert_count": [[..] per layer]}}} or {"ok": false, "reason": "..."}.
The same token ids as the ONNX side are used, batch 1, no padding, under torch.inference_mode.
"""
import json
import statistics
import sys
import time

from torch_model import load_model


def main():
    req = json.load(sys.stdin)
    torch, model = load_model(req)
    out = {}
    outputs = {}
    with torch.inference_mode():
        for length, ids in req["inputs"].items():
            x = torch.tensor([ids], dtype=torch.int64)
            mask = torch.ones_like(x)
            o = model(x, mask)
            outputs[length] = {"probabilities": torch.softmax(o.logits[0], -1).tolist(),
                               "expert_count": o.expert_count[:, 0].tolist()}
            for _ in range(int(req["warmup"])):
                model(x, mask)
            times = []
            for _ in range(int(req["iters"])):
                t0 = time.perf_counter()
                model(x, mask)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            out[length] = {"median": statistics.median(times), "p90": times[min(len(times) - 1, int(0.9 * len(times)))]}
    print(json.dumps({"ok": True, "ms": out, "outputs": outputs, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
