#!/usr/bin/env bash
# Installs the Debian packages the training code needs. There is no pip on purpose: everything comes from apt.
# OpenBLAS matters: without it torch runs about 25x slower.
set -euo pipefail
pkgs="python3-torch python3-onnx python3-numpy libopenblas0-pthread"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "error: installing$missing needs root (apt-get)" >&2; exit 2; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
/usr/bin/python3 -c "import torch, onnx, numpy; print('training deps: torch', torch.__version__, 'onnx', onnx.__version__)"
