#!/usr/bin/env bash
# Prepares the payload that bench/gpu/run.sh needs on a lent GPU machine (which reaches no registry and has no
# Node): a stripped Node, onnxruntime-node (its Linux x64 build carries the WebGPU provider), the compiled
# project (out/, dist/) and the Vulkan loader debs that /work/.library/device/README.md names, packed as
# .gpu/p1 .. .gpu/pN, each small enough to travel beside the tracked tree (about 45 MB, the models) within the
# device tool's 64 MiB per call. Run here, in the repository root, after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f out/bench/gpu/gpu-bench.js ] || { echo "build first: npm run build" >&2; exit 2; }
exclude="$(git rev-parse --git-common-dir)/info/exclude"
for p in /.gpu/ /.gl/; do grep -qx "$p" "$exclude" 2>/dev/null || echo "$p" >> "$exclude"; done
rm -rf .gpu && mkdir -p .gpu/stage/bin
cp "$(command -v node)" .gpu/stage/bin/node && strip .gpu/stage/bin/node
# The Vulkan loader and GL libraries, as the device README says (Debian packages, amd64).
if [ ! -d .gl ] || ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
cp .gl/*.deb .gpu/stage/
tar -C .gpu/stage -cf .gpu/node.tar bin $(cd .gpu/stage && ls *.deb)
tar -cf .gpu/project.tar --exclude=node_modules/onnxruntime-node/bin/napi-v6/darwin --exclude=node_modules/onnxruntime-node/bin/napi-v6/win32 \
  --exclude=node_modules/onnxruntime-node/bin/napi-v6/linux/arm64 out dist node_modules/onnxruntime-node node_modules/onnxruntime-common
tar -cf - -C .gpu node.tar project.tar | xz -T0 -6 > .gpu/payload.tar.xz
rm -rf .gpu/stage .gpu/node.tar .gpu/project.tar
# Parts of at most 15 MB, one per device call: .gpu/p1, .gpu/p2, ...
split -b 15000000 -d -a 1 .gpu/payload.tar.xz .gpu/part
n=0
for f in .gpu/part*; do n=$((n + 1)); mkdir -p ".gpu/p$n"; mv "$f" ".gpu/p$n/"; done
rm .gpu/payload.tar.xz
sha256sum .gpu/p*/part* > .gpu/SHA256SUMS
du -b .gpu/p*/part* | sed 's/^/  /'
echo "$n parts. Device calls (tool 'run', one after the other while the machine stays warm):"
for i in $(seq 1 $((n - 1))); do echo "  run(command='bash bench/gpu/run.sh stage $i', carry=['.gpu/p$i'], timeout_s=120)"; done
echo "  run(command='bash bench/gpu/run.sh run $n', carry=['.gpu/p$n', '.gpu/SHA256SUMS'], timeout_s=540)"
