"""PyTorch eager forward-pass latency of a DA-MoE model, for bench/engine-latency.ts.

A small line protocol on stdin/stdout (one JSON object per line), so that the Node side can interleave blocks of
PyTorch runs with blocks of engine runs in the same run instead of timing one after the other:

1. first line: the model, {"onnx": PATH} or {"run_dir": DIR, "router_overrides": {...}} (see torch_model.py), with
   "threads": N. Reply: {"ok": true, "torch": VERSION, "threads": N} or {"ok": false, "reason": "..."}.
2. then any number of requests, each answered by one line:
   - {"op": "time", "ids": [...], "iters": N, "warmup": N}: batch 1, no padding, under torch.inference_mode; reply
     {"ms": [each run's ms], "probabilities": [..], "expert_count": [[..] per layer]};
   - {"op": "gemm", "n": N, "reps": R}: the rate of one n x n x n float32 matrix product (torch.mm, the threads
     above), best of R repetitions; reply {"gflopsPerCore": .., "gflopsWall": ..} (per CPU-second, per second).
3. end of input: the process exits.

The caller sets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS to "threads": torch.set_num_threads does not bound
OpenBLAS's own pool, which otherwise uses every core for the larger matrix products of a "1-thread" run.
"""
import json
import sys
import time

from torch_model import load_model


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def time_forward(torch, model, req):
    x = torch.tensor([req["ids"]], dtype=torch.int64)
    mask = torch.ones_like(x)
    with torch.inference_mode():
        o = model(x, mask)
        for _ in range(int(req.get("warmup", 0))):
            model(x, mask)
        times = []
        for _ in range(int(req["iters"])):
            t0 = time.perf_counter()
            model(x, mask)
            times.append((time.perf_counter() - t0) * 1000)
    return {"ms": times, "probabilities": torch.softmax(o.logits[0], -1).tolist(),
            "expert_count": o.expert_count[:, 0].tolist()}


def gemm_rate(torch, n, reps):
    """GFLOP per CPU-second of this process (best repetition; the CPU time of every thread OpenBLAS used) and per
    wall second."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)
    cpu = wall = float("inf")
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        torch.mm(a, b, out=out)
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    flop = 2 * n ** 3
    return {"gflopsPerCore": flop / cpu / 1e9, "gflopsWall": flop / wall / 1e9}


def main():
    req = json.loads(sys.stdin.readline())
    torch, model = load_model(req)  # replies {"ok": false, ...} and exits when it cannot
    reply({"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads()})
    for line in sys.stdin:
        if not line.strip():
            continue
        r = json.loads(line)
        if r["op"] == "time":
            reply(time_forward(torch, model, r))
        elif r["op"] == "gemm":
            reply(gemm_rate(torch, int(r["n"]), int(r["reps"])))
        else:
            reply({"error": f"unknown op {r['op']!r}"})


if __name__ == "__main__":
    main()
