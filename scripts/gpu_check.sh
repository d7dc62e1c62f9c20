#!/usr/bin/env bash
# The GPU check on a machine that has a GPU and the build's packages: the bundle of
# scripts/gpu_bundle.sh built for this machine's GPU, then run here as a GPU machine
# without the packages runs it (scripts/gpu_run.sh; README, "On a GPU"). Results in
# out/gpu_check/ (summary.md in bench/RESULTS.md's format).
#
#   scripts/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no GPU here (nvidia-smi finds none); nothing to check" >&2
  exit 2
fi
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d ' .')
GP_BUNDLE_ARCH=$cap scripts/gpu_bundle.sh gpu-carry
exec gpu-carry/run.sh out/gpu_check
