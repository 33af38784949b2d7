#!/usr/bin/env bash
# One command sets up a fresh machine for development and tests:
#   Debian packages (training: torch, onnx, OpenBLAS; tests: chromium, code-server build deps),
#   npm packages (npm ci), and the cached end-to-end tools (Node 24, code-server).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
phase() { echo "== setup: $1 ($(( $(date +%s) - t0 ))s)"; }

# chromium: the end-to-end tests' browser, and its SwiftShader (/usr/lib/chromium/libvk_swiftshader.so with
# vk_swiftshader_icd.json and a libvulkan.so.1) is the CPU Vulkan driver on which test/integration/webgpu-parity.test.ts
# runs the WebGPU provider on machines without a GPU.
apt_pkgs="python3-torch python3-onnx python3-numpy libopenblas0-pthread chromium fonts-liberation libkrb5-dev pkg-config build-essential"
missing=""
for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  phase "apt-get install$missing"
  if [ "$(id -u)" -ne 0 ]; then echo "error: installing$missing needs root (apt-get)" >&2; exit 2; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

phase "npm ci"
# onnxruntime-node's postinstall downloads its CUDA libraries from api.nuget.org (linux-x64), which npm ci must not
# need. The skip is an environment variable of this command, not a key in .npmrc, where npm warns about it on every
# npx. npm 11.19's default (dependency install scripts blocked) skips it too; npm 10, Node 20's, needs the variable.
# A CUDA user sets ONNXRUNTIME_NODE_INSTALL=cuda12 instead (README, GPU).
ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}" npm ci --no-audit --no-fund

phase "end-to-end tools (Node 24, code-server; cached under .cache/)"
bash test/e2e/tools.sh

phase "done"
