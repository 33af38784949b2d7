#!/usr/bin/env bash
# The GPU benchmark on a lent GPU machine (NVIDIA H200; /work/.library/device/README.md): the shipped DA-MoE
# through the engine on cpu and on WebGPU (NVIDIA's Vulkan driver), on the same inputs: parity on the 30 parity
# sentences, latency at T = 128, 512 and 4,096, spot-check throughput at batch 64, and one table
# (bench/gpu/gpu-bench.ts). Prepare the payload here first with bench/gpu/pack.sh, which prints the calls:
#   bash bench/gpu/run.sh stage I    (carry .gpu/pI): keeps part I on the machine (.gpu/keep, kept while warm)
#   bash bench/gpu/run.sh run N      (carry .gpu/pN and .gpu/SHA256SUMS): joins the N parts, unpacks, runs
# The figures land in $OUT/gpu-bench.json and $OUT/gpu-bench.log. Budget: about 1 min per stage call, the run
# about 3 to 5 min, within one 10-minute command.
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=${1:?usage: run.sh stage I | run N}
mkdir -p .gpu/keep
if [ "$mode" = stage ]; then
  i=${2:?part number}
  mv .gpu/p"$i"/part* .gpu/keep/ && ls -la .gpu/keep
  exit 0
fi
n=${2:?number of parts}
mv .gpu/p"$n"/part* .gpu/keep/
have=$(ls .gpu/keep/part* 2>/dev/null | wc -l)
[ "$have" -eq "$n" ] || { echo "have $have of $n parts: the machine went back between calls; stage them again" >&2; exit 3; }
(cd .gpu/keep && sed 's#\.gpu/p[0-9]*/##' ../SHA256SUMS | sha256sum -c --quiet) || { echo "a part is damaged" >&2; exit 4; }
W=/tmp/damoe-gpu && rm -rf $W && mkdir -p $W
cat .gpu/keep/part* | xz -dc | tar -C $W -xf -
tar -C $W -xf $W/node.tar && tar -xf $W/project.tar
# The Vulkan loader (the machine may have none), then NVIDIA's ICD if the loader finds no driver.
# (DAMOE_GPU_NO_LOADER=1 skips this, for a dry run of the script on a machine that is not lent.)
if [ -z "${DAMOE_GPU_NO_LOADER:-}" ]; then
  for f in $W/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
NODE=$W/bin/node
command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] && NODE=$(command -v node)
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f $nvidia_icd ]; then
  export VK_DRIVER_FILES=$nvidia_icd __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
{
  echo "== $(date -u +%FT%TZ) $(uname -m), node $($NODE --version)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  ldconfig -p | grep libvulkan || echo "no libvulkan"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
} 2>&1 | tee "${OUT:-/tmp}/gpu-bench.log"
timeout 480 "$NODE" out/bench/gpu/gpu-bench.js ${GPU_BENCH_ARGS:---iters 20} --json "${OUT:-/tmp}/gpu-bench.json" 2>&1 | tee -a "${OUT:-/tmp}/gpu-bench.log"
exit "${PIPESTATUS[0]}"
