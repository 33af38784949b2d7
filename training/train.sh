#!/usr/bin/env bash
# Reproduces every shipped model: trains the tokenizer, the three models (same backbone, data, steps and seed),
# then exports each to models/NAME/ with its metrics, model card data and parity fixtures.
#   bash training/train.sh            # all three, in parallel, one thread each
#   PRESETS="damoe-sst2" bash training/train.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data=${DAMOE_DATA:-$root/../shared/data}
if [ ! -f "$data/sst2/train.tsv" ]; then
  echo "error: $data/sst2/train.tsv not found. Training reads GLUE SST-2 from ../shared/data/ (set DAMOE_DATA)." >&2
  exit 2
fi
py=/usr/bin/python3
presets=${PRESETS:-"damoe-sst2 switch-sst2 top2-sst2"}
mkdir -p "$here/runs"
# The tokenizer is trained once, first, so that the parallel runs share it.
[ -f "$here/runs/tokenizer.json" ] || $py "$here/train.py" --preset damoe-sst2 --out "$here/runs/tokenizer-only" \
  --train-file "$data/sst2/train.tsv" --dev-file "$data/sst2/dev.tsv" --max-steps 1 >/dev/null
# Stage 1: 2 epochs from scratch (lr 1e-3, warm-up 300, linear decay). Stage 2: 1 more epoch from the stage-1
# checkpoint with a fresh schedule (lr 3e-4, warm-up 100) and another shuffle seed. Same for all three presets.
stage() {  # stage NAME OUT ARGS...
  local p=$1 out=$2; shift 2
  $py "$here/train.py" --preset "$p" --out "$out" --eval-every 400 \
    --train-file "$data/sst2/train.tsv" --dev-file "$data/sst2/dev.tsv" "$@" > "$out.log" 2>&1
}
pids=()
for p in $presets; do
  ( stage "$p" "$here/runs/$p" --epochs 2 --lr 1e-3 --warmup-steps 300 --seed 1234 &&
    stage "$p" "$here/runs/$p-ft" --epochs 1 --lr 3e-4 --warmup-steps 100 --seed 1235 --init-from "$here/runs/$p" ) &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
# DA-MoE's k_scale is chosen on dev so that its mean K is near top-2's 2.0 (comparable expert compute); the sweep
# is kept in models/k-scale-sweep.json. See models/README.md.
DAMOE_K_SCALE=${DAMOE_K_SCALE:-0.375}
for p in $presets; do
  extra=()
  if [ "$p" = damoe-sst2 ]; then
    $py "$here/evaluate.py" --run "$here/runs/$p-ft" --dev-file "$data/sst2/dev.tsv" \
      --k-scale-sweep 0.3,0.35,0.375,0.4,0.45,0.5,0.75,1.0 --sweep-out "$root/models/k-scale-sweep.json"
    extra=(--k-scale "$DAMOE_K_SCALE")
  fi
  $py "$here/export.py" --run "$here/runs/$p-ft" --out "$root/models/$p" --dev-file "$data/sst2/dev.tsv" "${extra[@]}"
done
$py "$here/compare.py"
