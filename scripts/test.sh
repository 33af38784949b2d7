#!/usr/bin/env bash
# The whole test suite, as CI runs it: build, lint (ESLint with the layer boundaries, Prettier), Python tests, Node unit and integration tests (real onnxruntime-node
# and the shipped model), the VSIX, and end-to-end tests in a real VS Code (code-server) driven by Chromium.
# Prints each phase's time. Exits non-zero if any phase fails.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
failed=()
run_phase() {
  local name=$1; shift
  local s=$(date +%s)
  echo "== $name"
  if "$@"; then echo "== $name: ok ($(( $(date +%s) - s ))s)"; else echo "== $name: FAILED ($(( $(date +%s) - s ))s)"; failed+=("$name"); fi
}

run_phase build npm run --silent build
run_phase lint npm run --silent lint
run_phase python-tests bash -c 'cd training && /usr/bin/python3 -m unittest discover -s tests -t . 2>&1 | grep -v -e Warning -e "^  "'
run_phase node-tests node scripts/run-node-tests.mjs out/test/unit out/test/integration
run_phase package npm run --silent package
run_phase e2e node scripts/run-node-tests.mjs out/test/e2e

echo "== total $(( $(date +%s) - t0 ))s"
if [ ${#failed[@]} -gt 0 ]; then echo "FAILED phases: ${failed[*]}"; exit 1; fi
