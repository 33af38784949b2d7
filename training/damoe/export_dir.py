"""What training/export.py (classifiers) and training/export_lm.py (causal LMs) share when they write a model
directory: the run and its tokenizer checked against each other, model.onnx and its GPU graph model.gpu.onnx, the
tokenizer, the parity sentences and fixture, and the command-line wrapper that turns a ConfigError or DataError
into a one-line message and exit code 2. Every file is written to a temporary path and renamed."""
from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

from .config import ConfigError
from .glue import DataError

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TRAINING)
DATA = os.path.join(ROOT, "..", "shared", "data", "sst2")
PARITY_DIR = os.path.join(ROOT, "test", "fixtures", "parity")
MAX_MODEL_BYTES = 16 * 1024 * 1024


def load_checked_run(run_dir: str, tokenizer_path: str):
    """(model, checkpoint, tokenizer) of a training run, refused when the tokenizer is missing or is not the run's."""
    from .checkpoint import load_run
    from .wordpiece import WordPieceTokenizer

    # The model ships with the router it was trained with: no overrides (a k_scale changed after training was the
    # train/test mismatch of the first shipped DA-MoE).
    model, ckpt = load_run(run_dir)
    if not os.path.exists(tokenizer_path):
        raise ConfigError(f"tokenizer not found: {tokenizer_path}")
    tok = WordPieceTokenizer.from_file(tokenizer_path)
    if len(tok.vocab) != model.cfg.vocab_size:
        raise ConfigError(f"tokenizer {tokenizer_path} has {len(tok.vocab)} tokens but the model was trained "
                          f"with {model.cfg.vocab_size}; use the tokenizer of that run")
    return model, ckpt, tok


def write_model_files(model, out: str, labels: Sequence[str], tokenizer_path: str) -> tuple[dict, int]:
    """model.onnx (its `moe.contract` metadata returned), the GPU graph model.gpu.onnx beside it, and the tokenizer;
    the size of model.onnx, with a warning over the 16 MiB budget."""
    from .export_onnx import export, export_gpu
    from .wordpiece import write_atomic

    os.makedirs(out, exist_ok=True)
    model_path = os.path.join(out, "model.onnx")
    meta = export(model, model_path, labels, pad_id=model.cfg.pad_id)
    export_gpu(model, model_path, labels, pad_id=model.cfg.pad_id)
    size = os.path.getsize(model_path)
    if size > MAX_MODEL_BYTES:
        print(f"warning: model.onnx is {size / 2**20:.1f} MiB, over the 16 MiB budget", file=sys.stderr)
    with open(tokenizer_path, "rb") as f:
        write_atomic(os.path.join(out, "tokenizer.json"), f.read())
    return meta, size


def parity_sentences() -> list[str]:
    """training/parity_sentences.txt: the sentences every parity fixture is made of."""
    with open(os.path.join(TRAINING, "parity_sentences.txt"), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def write_parity_fixture(parity_dir: str, name: str, fixture: dict) -> None:
    """test/fixtures/parity/NAME.json: PyTorch's outputs on the parity sentences, which test/integration checks the
    ONNX model against."""
    import json
    from .wordpiece import write_atomic

    write_atomic(os.path.join(parity_dir, f"{name}.json"), json.dumps({**fixture, "model": name}).encode("utf-8"))


def run_main(main: Callable[[], int]) -> None:
    """Exits with main()'s code; a ConfigError or DataError is one line on stderr and exit code 2."""
    try:
        sys.exit(main())
    except (ConfigError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
