"""PyTorch eager batch inference of a DA-MoE model, for bench/spotcheck-throughput.ts.

Reads a JSON request as the first line of stdin: {"onnx": PATH} or {"run_dir": DIR, ...} (see torch_model.py),
"tokenizer": PATH, "threads": N, "batch_size": N, "max_len": N, "examples": [[text, pair_or_null], ...], and
optionally "wait_for_go": true} and writes one JSON object to stdout:
{"ok": true, "seconds": .., "tokenize_seconds": .., "forward_seconds": .., "examples": N, "examples_per_second": ..,
 "predictions": [...], "torch": VERSION, "threads": N} or {"ok": false, "reason": "..."}.

The model is rebuilt from the model.onnx (bench/onnx_peer.py) or loaded from the checkpoint (training/damoe/
checkpoint.py load_run), the texts are tokenized with
training/damoe/wordpiece.py (the model's tokenizer.json), sorted by length and run in batches of `batch_size`
(length bucketing, as the engine does), under torch.inference_mode with torch.set_num_threads(threads).
Timed: tokenization + batching + forward passes + argmax (model loading is not timed).

With "wait_for_go", the process writes {"ready": true} after loading and warming up, and starts the timed part
when it reads a line on stdin: bench/spotcheck-throughput.ts starts several processes at once this way (one per
core, each on its share of the examples), so their timed parts run concurrently.
The caller sets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS to "threads" (torch.set_num_threads does not bound
OpenBLAS's own pool).
"""
import json
import os
import sys
import time

from torch_model import fail, load_model


def main():
    req = json.loads(sys.stdin.readline())
    torch, model = load_model(req)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "training"))
    if not os.path.exists(req["tokenizer"]):
        fail(f"tokenizer not found: {req['tokenizer']}")
    from damoe.batching import pad_batch
    from damoe.wordpiece import WordPieceTokenizer

    tok = WordPieceTokenizer.from_file(req["tokenizer"])
    examples = req["examples"]
    batch_size = int(req["batch_size"])
    max_len = int(req["max_len"])

    # Warm-up (not timed): one small batch.
    with torch.inference_mode():
        warm = [tok.encode(t, p, max_len=max_len) for t, p in examples[: min(8, len(examples))]]
        ids, mask = pad_batch(warm, tok.pad_id)
        model(ids, mask)
    if req.get("wait_for_go"):
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()

    t0 = time.perf_counter()
    seqs = [tok.encode(t, p, max_len=max_len) for t, p in examples]
    t1 = time.perf_counter()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    preds = [0] * len(seqs)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            ids, mask = pad_batch([seqs[i] for i in idx], tok.pad_id)
            out = model(ids, mask)
            logits = out.logits if hasattr(out, "logits") else out[0]
            for i, p in zip(idx, logits.argmax(-1).tolist()):
                preds[i] = p
    t2 = time.perf_counter()
    print(json.dumps({
        "ok": True,
        "seconds": t2 - t0,
        "tokenize_seconds": t1 - t0,
        "forward_seconds": t2 - t1,
        "examples": len(seqs),
        "examples_per_second": len(seqs) / (t2 - t0) if t2 > t0 else 0,
        "predictions": preds,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
