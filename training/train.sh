#!/usr/bin/env bash
# Reproduces the router study and every shipped model:
#   1. the WordPiece tokenizer, trained on the training file;
#   2. every router of damoe/presets.py x every seed, the same backbone, data, steps and schedule (3 epochs, batch
#      64, AdamW lr 1e-3, warm-up 300, linear decay, positions shifted by up to 64), checkpoints chosen on
#      sentence-dev.tsv; JOBS runs at a time,
#      one thread each; a finished run (summary.json) is kept, so an interrupted study resumes;
#   3. training/compare.py: the study table (models/README.md, models/study.json) and the run to ship per router;
#   4. training/export.py for each shipped model.
#   bash training/train.sh
#   ROUTERS="damoe-calibrated top2" SEEDS="1" bash training/train.sh     # a smaller study
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data=${DAMOE_DATA:-$root/../shared/data}
train_file=$data/sst2/train-minus-sentence-dev.tsv
valid_file=$data/sst2/sentence-dev.tsv
for f in "$train_file" "$valid_file"; do
  if [ ! -f "$f" ]; then
    echo "error: $f not found. Training reads GLUE SST-2 from ../shared/data/sst2/ (set DAMOE_DATA)." >&2
    exit 2
  fi
done
py=/usr/bin/python3
routers=${ROUTERS:-"damoe-mean damoe-corpus damoe-calibrated top2 switch"}
seeds=${SEEDS:-"1 2 3"}
jobs=${JOBS:-$(nproc)}
study=$here/runs/study
mkdir -p "$study"
[ -f "$here/runs/tokenizer.json" ] || $py "$here/train.py" --preset damoe-mean --out "$here/runs/tokenizer-only" \
  --train-file "$train_file" --dev-file "$valid_file" --max-steps 1 >/dev/null

run_one() {  # run_one ROUTER SEED
  local out=$study/$1-s$2
  [ -f "$out/summary.json" ] && return 0
  $py "$here/train.py" --preset "$1" --seed "$2" --out "$out" --epochs 3 --lr 1e-3 --warmup-steps 300 \
    --eval-every 200 --position-shift 64 --threads 1 --train-file "$train_file" --dev-file "$valid_file" > "$out.log" 2>&1 ||
    { echo "error: $1 seed $2 failed; see $out.log" >&2; return 1; }
  echo "trained $1 seed $2: $(tail -n 1 "$out.log")"
}
export -f run_one
export py here study train_file valid_file
# Seeds outer, routers inner: a study cut short still has every router at the seeds it reached.
for s in $seeds; do for r in $routers; do echo "$r $s"; done; done |
  xargs -P "$jobs" -L 1 bash -c 'run_one "$0" "$1"'

$py "$here/compare.py" --study "$study" --valid-file "$valid_file" --dev-file "$data/sst2/dev.tsv"
# compare.py names the run each shipped model comes from (the best sentence-dev seed of its router).
while read -r name run; do
  $py "$here/export.py" --run "$run" --out "$root/models/$name" --valid-file "$valid_file" \
    --dev-file "$data/sst2/dev.tsv" --study "$root/models/study.json"
done < <($py -c 'import json,sys; [print(k, v["run"]) for k, v in json.load(open(sys.argv[1]))["ship"].items()]' \
  "$root/models/study.json")
