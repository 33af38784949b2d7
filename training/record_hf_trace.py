"""Record a routing trace of a Hugging Face MoE model on your machine (torch + transformers), for `damoe trace` and
DA-MoE: Open Routing Trace (docs/routing-traces.md, "Hugging Face hooks"):

    python training/record_hf_trace.py --model Qwen/Qwen1.5-MoE-A2.7B --out traces.jsonl --text "The capital of France is"
    python training/record_hf_trace.py --model ./my-mixtral --out traces.jsonl --file prompts.txt --max-new-tokens 8

Each prompt (one per line of --file) is tokenised by the model's tokenizer, optionally continued greedily by
--max-new-tokens, and run once through the model; forward pre-hooks on the routers record every MoE layer's router
logits (damoe/hf_trace.py). Then: npx damoe trace traces.jsonl --tokenizer MODEL_DIR (its tokenizer.json).
transformers is imported only here; it is not installed where this repository's tests run, so the tests drive the
writer (damoe/hf_trace.py) with stand-in modules.
"""
import argparse
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a Hugging Face model id or folder (config.json, weights, tokenizer)")
    p.add_argument("--out", required=True, help="the trace file to write (JSONL)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", action="append", help="a prompt (repeatable)")
    src.add_argument("--file", help="a text file: one prompt per non-empty line")
    p.add_argument("--max-new-tokens", type=int, default=0, help="greedy tokens generated after each prompt (default 0)")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        sys.exit(f"record_hf_trace.py needs torch and transformers ({e}); pip install torch transformers")
    from damoe.hf_trace import header, record_line, record_router_logits, write_trace

    prompts = args.text or [l.strip() for l in open(args.file, encoding="utf-8") if l.strip()]
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=getattr(torch, args.dtype)).eval()
    config = AutoConfig.from_pretrained(args.model).to_dict()
    lines = []
    for text in prompts:
        ids = tokenizer(text, return_tensors="pt").input_ids
        full = ids
        if args.max_new_tokens > 0:
            with torch.no_grad():
                full = model.generate(ids, max_new_tokens=args.max_new_tokens, do_sample=False)
        logits = record_router_logits(model, config, full[0])
        lines.append(record_line(full[0], logits, prompt_tokens=ids.shape[1], prompt=text))
        print(f"{len(lines)}/{len(prompts)}: {ids.shape[1]} prompt + {full.shape[1] - ids.shape[1]} generated tokens", file=sys.stderr)
    write_trace(args.out, header(config, args.model, model), lines)
    print(f"wrote {args.out}: {len(lines)} sequences", file=sys.stderr)


if __name__ == "__main__":
    main()
