"""Export a Hugging Face MoE model (a directory with config.json, safetensors weights and a tokenizer) to the
DA-MoE Inspector's model contract v2 (docs/model-contract.md): model.onnx with router_logits recorded by hooks on
every MoE block's router, the router convention, top-k, shared experts and dense layers read from config.json into
the metadata, and tokenizer.json beside it.

NEEDS transformers (and safetensors), which the inspector's CI machines do not have:
    pip install 'transformers>=4.46' safetensors
The config.json -> metadata mapping (damoe/hf_config.py) and the hooks and dense dispatch (damoe/hf_export.py) are
tested without it (training/tests/test_hf_config.py, test_hf_export.py); this script itself has not been run against
transformers here.

    python training/export_hf.py MODEL_DIR OUT_DIR [--task causal-lm|sequence-classification] [--max-length N]
"""
import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from damoe.hf_config import SUPPORTED, UnsupportedModel, contract_metadata  # noqa: E402

NEEDS = ("export_hf.py needs the Python package 'transformers' (>= 4.46, with 'safetensors'), which is not "
         "installed here. Install it with: pip install 'transformers>=4.46' safetensors  (torch and onnx are "
         "needed too). The inspector itself does not need it; only this exporter does.")


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export a Hugging Face MoE model directory (config.json + safetensors + tokenizer) to the "
                    "DA-MoE Inspector's contract v2. Requires transformers (pip install 'transformers>=4.46' "
                    "safetensors), which the inspector's CI does not have. Families: " + ", ".join(SUPPORTED) +
                    " (switch_transformers: metadata mapping only; it is an encoder-decoder model).")
    p.add_argument("model_dir", help="directory with config.json, *.safetensors and tokenizer.json (or tokenizer files)")
    p.add_argument("out_dir", help="where model.onnx and tokenizer.json are written (created if missing)")
    p.add_argument("--task", choices=["causal-lm", "sequence-classification"], default="causal-lm",
                   help="AutoModelForCausalLM (default) or AutoModelForSequenceClassification")
    p.add_argument("--max-length", type=int, default=None,
                   help="max_sequence_length in the metadata (default: config.json's max_position_embeddings)")
    p.add_argument("--labels", default=None, help="comma-separated class names (sequence-classification; default id2label)")
    p.add_argument("--sample", default="The quick brown fox jumps over the lazy dog.",
                   help="text traced for the export and used for the parity check")
    p.add_argument("--opset", type=int, default=17)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import transformers  # noqa: F401
    except ImportError:
        sys.exit(NEEDS)
    config_path = os.path.join(args.model_dir, "config.json")
    if not os.path.isfile(config_path):
        sys.exit(f"export_hf.py: {config_path} not found: MODEL_DIR must be a Hugging Face model directory with config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    try:
        labels = args.labels.split(",") if args.labels else None
        meta = contract_metadata(config, task=args.task, max_sequence_length=args.max_length, labels=labels)
    except UnsupportedModel as e:
        sys.exit(f"export_hf.py: {e}")
    if config.get("model_type") == "switch_transformers":
        sys.exit("export_hf.py: switch_transformers is an encoder-decoder model; this exporter exports decoder-only "
                 "causal LMs and sequence classifiers. Its metadata would be:\n" + json.dumps(meta, indent=1))
    import onnx
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    from damoe.hf_export import ContractWrapper, Recorder, correction_bias, export, install, moe_blocks

    auto = AutoModelForCausalLM if args.task == "causal-lm" else AutoModelForSequenceClassification
    model = auto.from_pretrained(args.model_dir, torch_dtype=torch.float32).eval()
    blocks = moe_blocks(model, meta.get("dense_layers", []))
    if meta["router"]["convention"] == "sigmoid-group-topk":
        meta["router"]["e_score_correction_bias"] = correction_bias(blocks)
    recorder = Recorder()
    install(model, blocks, meta["router"], meta["k"], recorder)
    wrapper = ContractWrapper(model, args.task, recorder).eval()

    os.makedirs(args.out_dir, exist_ok=True)
    tok_src = os.path.join(args.model_dir, "tokenizer.json")
    tok_dst = os.path.join(args.out_dir, "tokenizer.json")
    if os.path.isfile(tok_src):
        shutil.copyfile(tok_src, tok_dst)
    else:
        AutoTokenizer.from_pretrained(args.model_dir).backend_tokenizer.save(tok_dst)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    sample_ids = tokenizer(args.sample)["input_ids"]

    path = os.path.join(args.out_dir, "model.onnx")
    with torch.no_grad():
        export(wrapper, args.task, path, sample_ids, opset=args.opset)
    m = onnx.load(path)
    entry = m.metadata_props.add()
    entry.key = "moe.contract"
    entry.value = json.dumps(meta)
    large = m.ByteSize() > 2_000_000_000
    onnx.save(m, path, save_as_external_data=large, location="model.onnx.data" if large else None)
    onnx.checker.check_model(path)
    print(f"wrote {path} ({meta['num_layers']} MoE layers x {meta['num_experts']} experts, top-{meta['k']}, "
          f"router {meta['router']['convention']}) and {tok_dst}")


if __name__ == "__main__":
    main()
