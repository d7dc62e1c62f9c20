#!/usr/bin/env bash
# Every check that needs a GPU, in one command, for a machine that has one:
#   1. configure and build for the GPU that is present (its compute capability from
#      nvidia-smi), with the nvcc resource report;
#   2. every test that runs on the device: the kernels built by nvcc
#      (kernels.cuda.*), the engine and CLI on `--device cuda`, and the simulator's
#      conformance programs built by nvcc (gpu.*): the tensor-core PTX layouts and the
#      graph semantics that the simulator implements are proven here, on hardware;
#   3. the engine benchmark with CUDA events (custom fp32 / fp16 / bf16 and cuDNN, each
#      with and without a CUDA graph, 256 and 512, widths 16 and 64), JSON under
#      out/gpu_check/;
#   4. the static plan report (roofline estimates) for the GPU, fp32 and fp16.
# Writes out/gpu_check/{build.log,ctest.log,engine_bench.json,summary.md}; the summary
# is in bench/RESULTS.md's format, to be appended there with the date and the commit.
#
#   scripts/gpu_check.sh            (GP_GPU_CHECK_BUILD=build-gpu by default)
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/gpu_check
build=${GP_GPU_CHECK_BUILD:-build-gpu}
mkdir -p "$out"
start=$(date +%s)
stage() { echo "=== $* ($(( $(date +%s) - start )) s)"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no GPU here (nvidia-smi finds none); nothing to check" >&2
  exit 2
fi
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d ' .')
echo "gpu_check: $gpu (sm_$cap)"

stage "build for sm_$cap"
cudnn=OFF
ls /usr/include/cudnn*.h /usr/local/cuda/include/cudnn*.h >/dev/null 2>&1 && cudnn=ON
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGP_CUDA_ARCHITECTURES="${cap}-real" \
  -DGP_PTXAS_VERBOSE=ON -DGP_CUDNN=$cudnn >"$out/build.log" 2>&1
if ! cmake --build "$build" -j "$(nproc)" >>"$out/build.log" 2>&1; then
  grep -v "^ptxas info\|bytes stack frame" "$out/build.log" | tail -n 60
  echo "gpu_check: build failed ($out/build.log)" >&2
  exit 1
fi
# The conformance programs are built for sm_80 and sm_90 (+PTX) whatever the GPU.

stage "tests on the device"
status=0
GP_DEVICE=cuda ctest --test-dir "$build" -L "gpu|engine|cli|examples" --output-on-failure -j 4 \
  >"$out/ctest.log" 2>&1 || status=1
tail -n 15 "$out/ctest.log"
skipped=$(grep -c "Skipped" "$out/ctest.log" || true)
if [[ "$skipped" != 0 ]]; then
  echo "gpu_check: $skipped tests skipped on a machine with a GPU: that is a failure here" >&2
  status=1
fi

stage "engine benchmark"
# The GPU paths only (the simulator's take minutes; bench/RESULTS.md has them).
"$build/bench/engine_bench" --benchmark_filter='/(cuda|cudnn)' --benchmark_min_time=0.2 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/engine_bench.json" --benchmark_out_format=json | tee "$out/engine_bench.txt" || status=1

stage "plan report"
plan_gpu=h200
case "$gpu" in *H100*) plan_gpu=h100 ;; *A100*) plan_gpu=a100 ;; esac
for precision in fp32 fp16; do
  "$build/guidingpainter" plan --width 64 --size 256 --gpu "$plan_gpu" --precision "$precision" \
    >"$out/plan_$precision.txt" || status=1
done
tail -n 3 "$out/plan_fp16.txt"

stage "summary"
{
  echo "### $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD), $gpu (sm_$cap)"
  echo
  echo "Command: \`scripts/gpu_check.sh\`"
  echo
  echo "Tests: $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -n 1)"
  echo
  echo '```'
  grep -E "^BM_|^Benchmark|^---" "$out/engine_bench.txt" || true
  echo '```'
  echo
  echo "Roofline estimates (\`guidingpainter plan --gpu $plan_gpu\`, width 64, 256 x 256):"
  echo
  echo '```'
  grep -E "^(segmentation|colorize step):" "$out/plan_fp32.txt" | sed 's/^/fp32 /'
  grep -E "^(segmentation|colorize step):" "$out/plan_fp16.txt" | sed 's/^/fp16 /'
  echo '```'
  if command -v python3 >/dev/null && grep -q "ptxas info" "$out/build.log"; then
    echo
    python3 tools/ptxas_report.py "$out/build.log" || true
  fi
} >"$out/summary.md"
echo "gpu_check: $out/summary.md ($(( $(date +%s) - start )) s)"
exit $status
