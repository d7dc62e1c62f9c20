#!/usr/bin/env bash
# The GPU check. scripts/gpu_bundle.sh copies this file into its bundle as run.sh; run it
# from the root of the repository the bundle was built from:
#
#   gpu-carry/run.sh [OUTDIR]                  (OUTDIR: $OUT when not given)
#   GP_GPU_DRYRUN=1 gpu-carry/run.sh OUTDIR    the same steps where there is no GPU
#
# Steps, in order of what matters most, each under its own timeout (the table below; the
# timeouts add up to under 7 minutes, and a step never runs past the whole budget):
#   the bundle unpacked, its checksums and every ELF file's libraries checked; the
#   simulator's conformance programs built by nvcc (mma/ldmatrix/cp.async layouts, graph
#   semantics, proven on hardware); every kernel test; the engine tests that reach the
#   device; the CLI on the device against the simulator; engine_bench's CUDA paths; the
#   roofline plan; ncu on the colorizer's 3x3 convs; compute-sanitizer memcheck, racecheck
#   and synccheck on the tensor-core and closed-area kernel tests; the cuDNN tests and
#   benchmarks through the machine's own cuDNN (skipped, with the reason, without one).
# Writes to OUTDIR, at most 8 files: summary.md (bench/RESULTS.md's format; also printed
# last), tests.json, bench.json, sanitizer.txt, ncu.csv, ncu.ncu-rep, plan.txt, log.txt.
# Exit status 0 when every step passed.
#
# The dry run (GP_GPU_DRYRUN=1) launches nothing on a device: it unpacks and checks the
# bundle and the fixtures, lists what each test filter selects, runs the CPU-only plan,
# looks for the tools and cuDNN, prints each device step with its timeout and writes the
# output folder.
set -euo pipefail
bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$PWD
out=${1:-${OUT:-}}
dry=${GP_GPU_DRYRUN:-0}
[[ $dry == 1 ]] || dry=0
[[ -n $out ]] || { echo "usage: $0 OUTDIR (or set OUT)" >&2; exit 2; }
if [[ ! -f $root/tests/fixtures/w4_48x40/model.safetensors || ! -f $bundle/bundle.tar.xz ]]; then
  echo "run.sh: run it from the repository root, with the bundle of scripts/gpu_bundle.sh beside it" >&2
  exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/gp-gpu-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
b=$work/bundle  # the unpacked bin/ and lib/
start=$(date +%s)

# Seconds per step, at most: 400 in all (the plan counted twice), so that with the summary
# the check stays under 7 minutes (420 s) on an H100 and a rerun fits the machine's 15
# minutes. Each is several times what the step should take there; none was measured yet.
declare -A limit=(
  [unpack]=15 [tensor_core_conformance]=12 [graph_capture]=12 [kernel_tests]=50
  [engine_tests]=35 [cli_selftest]=8 [cli_cuda]=10 [cli_sim]=20 [bench]=55 [plan]=5
  [ncu]=40 [memcheck]=25 [racecheck]=35 [synccheck]=20 [cudnn_tests]=25 [bench_cudnn]=28
)
budget=${GP_GPU_BUDGET_S:-420}
deadline=$((start + budget - 10))  # 10 s left for the summary
total=${limit[plan]}  # the plan runs twice (fp16, fp32)
for t in "${limit[@]}"; do total=$((total + t)); done
if (( total > budget - 20 )); then
  echo "run.sh: the step timeouts add up to $total s, over the $budget s budget less 20 s for unpacking and the summary" >&2
  exit 2
fi

# The tensor-core and closed-area suites of the kernel tests, for the sanitizers, less the
# 4096 x 4096 drawing (its CPU reference alone takes seconds; a sanitizer multiplies the
# GPU part). The engine tests that reach the device: the fixtures on every backend present
# and the tests that ask for CUDA by name; the others pin the simulator.
sanitize_filter=${GP_GPU_SANITIZE_FILTER:-'*ConvMma*:*ConvHeads16*:*Area*-AreaLabels.LargeDrawing4096'}
engine_filter='Fixtures/*:CApi.CudaWithoutAGpuIsADeviceError:CApiPrecision.DefaultIsFp16OnATensorCoreGpu'
engine_filter+=':SessionControl.SessionOnAnotherThreadRunsOnItsModelsGpu'
# engine_bench: the engine's own CUDA paths (fp32, fp16, bf16; with and without a graph;
# 256 and 512; widths 16 and 64). cuDNN, whose warm-up searches algorithms per layer: the
# published width, no graph.
bench_args=(--benchmark_min_time=0.05 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
cudnn_filter='^BM_(Segment|Colorize)/cudnn(_tf32|_fp16|_bf16)?/size:(256|512)/width:64$'
sketch=examples/samples/1F432-sketch.png
cli_args=(colorize --sketch "$sketch" --size 256 --precision fp32 --hint '1=#C04030' --hint '2=#3050B0' --hint '3=#E0C020')

export GP_SOURCE_DIR=$root GP_MODEL=$root/weights/guidingpainter-emoji.safetensors
export PATH=$PATH:/usr/local/cuda/bin
log=$out/log.txt
: >"$log"
: >"$work/steps.tsv"
note() { echo "run.sh: $*" | tee -a "$log"; }

# step NAME CMD...: runs CMD under NAME's timeout (clipped to the deadline), output to
# $work/NAME.log, its tail to log.txt; records NAME, result, seconds, timeout and rc in
# steps.tsv. In the dry run, only says what it would run. Never fails the script.
step() {
  local name=$1 t=${limit[$1]} now rc=0 result
  shift
  now=$(date +%s)
  (( now + t > deadline )) && t=$((deadline - now))
  if [[ $dry == 1 ]]; then
    printf '%s\tdry\t0\t%s\t0\t\n' "$name" "${limit[$name]}" >>"$work/steps.tsv"
    note "[dry] $name (timeout ${limit[$name]} s): $*"
    return 0
  fi
  if (( t < 3 )); then
    printf '%s\tno time\t0\t%s\t0\t\n' "$name" "$t" >>"$work/steps.tsv"
    note "$name: not run, the $budget s budget is spent"
    return 0
  fi
  note "$name (timeout $t s): $*"
  timeout -k 5 "$t" "$@" >"$work/$name.log" 2>&1 || rc=$?
  case $rc in
    0) result=pass ;;
    124 | 137) result=timeout ;;
    *) result=fail ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t\n' "$name" "$result" "$(( $(date +%s) - now ))" "$t" "$rc" >>"$work/steps.tsv"
  { echo "--- $name: $result (rc $rc, $(( $(date +%s) - now )) s), last 200 lines:"; tail -n 200 "$work/$name.log"; } >>"$log"
  return 0
}
# skip NAME REASON: a step that cannot run here, and why.
skip() {
  printf '%s\tskipped\t0\t%s\t0\t%s\n' "$1" "${limit[$1]}" "$2" >>"$work/steps.tsv"
  note "$1: skipped: $2"
}

# ---- the bundle ----------------------------------------------------------------------------
note "$(date -u +%Y-%m-%dT%H:%M:%SZ) bundle $bundle, repository $root, output $out$([[ $dry == 1 ]] && echo ', DRY RUN')"
note "step timeouts add up to $total s of the $budget s budget"
mkdir -p "$b"
if ! timeout "${limit[unpack]}" tar -xJf "$bundle/bundle.tar.xz" -C "$b" ||
   ! (cd "$b" && sed -n '/^$/,$p' MANIFEST | sed 1d | sha256sum --quiet -c -); then
  note "the bundle did not unpack or its checksums differ: carry it again"
  exit 1
fi
head -n 4 "$b/MANIFEST" | tee -a "$log"

# Every ELF file must find its libraries in the bundle or among the C/C++ runtime and the
# driver: the GPU machine has nothing else that can be relied on. The executables find
# lib/ by their RPATH; lib/cudnn/ (cuDNN's front library, for the binaries that link it)
# comes through LD_LIBRARY_PATH, as in the steps below; the bundled libraries' own
# dependencies resolve through the executable's RPATH, so ldd sees them with lib/ added.
system_lib='^(linux-vdso|libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s|ld-linux-x86-64|libcuda|libnvidia-[^.]*)\.so'
bad=0
blib=$(readlink -f "$b/lib")
while IFS= read -r -d '' f; do
  [[ $(head -c 4 "$f" | od -An -c | tr -d ' ') == 177ELF ]] || continue
  path=$b/lib/cudnn
  [[ $f == "$b"/lib/* ]] && path=$b/lib:$b/lib/cudnn
  while read -r soname arrow where _; do
    [[ $arrow == "=>" ]] || continue  # the loader and the vDSO have no arrow
    if [[ $where == not ]]; then
      note "library check: ${f#"$b"/} needs $soname: not found"; bad=1
    elif [[ $(readlink -f "$where") != "$blib"/* && ! $soname =~ $system_lib ]]; then
      note "library check: ${f#"$b"/} takes $soname from $where, outside the bundle"; bad=1
    fi
  done < <(LD_LIBRARY_PATH=$path ldd "$f" 2>&1)
done < <(find "$b/bin" "$b/lib" -type f -print0)
(( bad == 0 )) || exit 1
note "library check: every ELF file in bin/ and lib/ resolves inside the bundle or to the C/C++ runtime and driver"
printf 'bundle\tpass\t%s\t%s\t0\tunpacked, checksums and libraries checked\n' "$(( $(date +%s) - start ))" "${limit[unpack]}" \
  >>"$work/steps.tsv"

# The fixtures the tests read, in this repository ($GP_SOURCE_DIR).
for f in tests/fixtures/w4_17x19/model.safetensors tests/fixtures/w4_48x40/stages.safetensors \
         tests/fixtures/w8_33x47/stages.safetensors "$sketch" examples/samples/1F3E0-sketch.png \
         weights/guidingpainter-emoji.safetensors; do
  [[ -f $root/$f ]] || { note "fixture missing: $root/$f"; exit 1; }
done

# ---- the machine -------------------------------------------------------------------------------
gpus=0 gpu="none (dry run)" cap="" driver=""
if [[ $dry == 0 ]]; then
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    note "no GPU here (nvidia-smi finds none): GP_GPU_DRYRUN=1 walks the steps without one"
    exit 2
  fi
  gpus=$(nvidia-smi -L | grep -c '^GPU')
  IFS=, read -r gpu cap driver < <(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader | head -n 1)
  cap=${cap// /} driver=${driver// /}
fi
plan_gpu=h100
case $gpu in *H200*) plan_gpu=h200 ;; *A100*) plan_gpu=a100 ;; esac
note "GPU: $gpu${cap:+ (compute capability $cap, driver $driver)}, $gpus in all"

# ncu and compute-sanitizer: on PATH or in CUDA's and Nsight Compute's usual folders.
find_tool() {
  command -v "$1" 2>/dev/null && return
  compgen -G "/opt/nvidia/nsight-compute/*/$1" | sort -V | tail -n 1 || true
  compgen -G "/usr/local/cuda*/bin/$1" | sort -V | tail -n 1 || true
}
ncu=$(find_tool ncu | head -n 1)
sanitizer=$(find_tool compute-sanitizer | head -n 1)
note "ncu: ${ncu:-not found}; compute-sanitizer: ${sanitizer:-not found}"
if [[ $dry == 1 ]]; then  # the dry run prints the commands all the same
  ncu=${ncu:-ncu} sanitizer=${sanitizer:-compute-sanitizer}
fi

# cuDNN 9: the machine's own (PyTorch's pip wheels, else the system's), with the other
# NVIDIA wheels' libraries it may load (cuBLAS, NVRTC). Its front library and its
# sub-libraries must be of one version, so the machine's comes first on the path.
cudnn_path=
py=$(command -v python3 || true)
if [[ -n $py ]]; then
  cudnn_path=$("$py" - <<'EOF' 2>/dev/null || true
import glob, os, sys
dirs = []
for p in sys.path:
    for lib in sorted(glob.glob(os.path.join(p, "nvidia", "*", "lib"))):
        if lib not in dirs:
            dirs.append(lib)
if any(os.path.exists(os.path.join(d, "libcudnn.so.9")) for d in dirs):
    print(":".join(dirs))
EOF
  )
fi
if [[ -z $cudnn_path ]]; then
  for d in "${GP_CUDNN_DIR:-}" /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu; do
    [[ -n $d && -e $d/libcudnn.so.9 ]] && { cudnn_path=$d; break; }
  done
fi
if [[ -n $cudnn_path ]]; then
  note "cuDNN: $cudnn_path"
else
  note "cuDNN: none found (no libcudnn.so.9 in the nvidia/*/lib folders of python3, CUDA's lib64 or the system)"
fi
[[ $dry == 1 && -z $cudnn_path ]] && cudnn_path="(the machine's cuDNN)"

# ---- the dry run: what each filter selects, and the binaries start ----------------------------
list_tests() {  # BINARY FILTER: the number of tests the filter selects
  LD_LIBRARY_PATH=$b/lib/cudnn "$b/bin/$1" --gtest_list_tests --gtest_filter="$2" | grep -c '^  ' || true
}
if [[ $dry == 1 ]]; then
  for spec in "kernel_tests_cuda|*" "engine_tests|$engine_filter" "kernel_tests_cuda|$sanitize_filter" "cudnn_tests|*"; do
    bin=${spec%%|*} filter=${spec#*|}
    [[ -x $b/bin/$bin ]] || { note "missing from the bundle: bin/$bin"; exit 1; }
    n=$(list_tests "$bin" "$filter")
    (( n > 0 )) || { note "$bin: the filter '$filter' selects no test"; exit 1; }
    note "$bin --gtest_filter='$filter': $n tests"
  done
  n=$(LD_LIBRARY_PATH=$b/lib/cudnn "$b/bin/engine_bench" --benchmark_list_tests=true 2>/dev/null | grep -c '^BM_' || true)
  (( n > 0 )) || { note "engine_bench lists no benchmark"; exit 1; }
  note "engine_bench starts ($n simulator benchmarks here; the CUDA paths register on a GPU)"
fi

# ---- the device steps ------------------------------------------------------------------------
json() { echo "--gtest_output=json:$work/$1.json"; }
for program in tensor_core_conformance graph_capture; do
  step "$program" "$b/bin/${program}_cuda"
done
step kernel_tests "$b/bin/kernel_tests_cuda" --gtest_brief=1 "$(json kernel_tests)"
step engine_tests env GP_DEVICE=cuda "$b/bin/engine_tests" --gtest_brief=1 --gtest_filter="$engine_filter" "$(json engine_tests)"

# The CLI on the device: its own kernel check, then one colorize on the GPU and on the
# simulator in fp32 (the summary compares the raw outputs).
step cli_selftest "$b/bin/guidingpainter" selftest --device cuda
step cli_cuda "$b/bin/guidingpainter" "${cli_args[@]}" --device cuda -o "$work/cli_cuda.png" --raw "$work/cli_cuda.npy"
step cli_sim "$b/bin/guidingpainter" "${cli_args[@]}" --device sim -o "$work/cli_sim.png" --raw "$work/cli_sim.npy"

# The benchmark links cuDNN; these paths never call it, so the bundle's front library will do.
step bench env LD_LIBRARY_PATH="$b/lib/cudnn" "$b/bin/engine_bench" --benchmark_filter=/cuda "${bench_args[@]}" \
  --benchmark_out="$work/bench_cuda.json" --benchmark_out_format=json

# The roofline plan runs on the CPU: the dry run runs it too (the ncu step reads it).
plan_result=pass
for precision in fp16 fp32; do
  timeout "${limit[plan]}" "$b/bin/guidingpainter" plan --width 64 --size 256 --gpu "$plan_gpu" --precision "$precision" \
    >"$work/plan_$precision.txt" 2>&1 || plan_result=fail
done
printf 'plan\t%s\t0\t%s\t0\t\n' "$plan_result" "${limit[plan]}" >>"$work/steps.tsv"
cat "$work/plan_fp16.txt" "$work/plan_fp32.txt" >"$out/plan.txt"

# ncu: every 3x3 conv of one colorize step (width 64, 256 x 256, fp16), in launch order,
# which is the plan's order: the summary names the plan's three costliest and ncu's.
convs=$(awk '/^colorizer,/ {on = 1} on && /conv3x3_mma/ {n++} END {print n + 0}' "$work/plan_fp16.txt")
if [[ -z $ncu ]]; then
  skip ncu "no ncu on this machine"
elif (( convs == 0 )); then
  skip ncu "the plan lists no tensor-core conv"
else
  step ncu env LD_LIBRARY_PATH="$b/lib/cudnn" "$ncu" --clock-control none --kernel-name regex:conv3x3_mma \
    --launch-count "$convs" --section SpeedOfLight --section Occupancy --section ComputeWorkloadAnalysis \
    -f -o "$work/ncu" "$b/bin/engine_bench" '--benchmark_filter=^BM_Colorize/cuda_fp16/size:256/width:64$' \
    --benchmark_min_time=0.001 --benchmark_repetitions=1
  if [[ -f $work/ncu.ncu-rep ]]; then
    "$ncu" --import "$work/ncu.ncu-rep" --csv --page raw >"$out/ncu.csv" 2>>"$log" || true
    cp "$work/ncu.ncu-rep" "$out/ncu.ncu-rep"
  fi
fi

for tool in memcheck racecheck synccheck; do
  if [[ -z $sanitizer ]]; then
    skip "$tool" "no compute-sanitizer on this machine"
  else
    step "$tool" "$sanitizer" --tool "$tool" --error-exitcode 97 --print-limit 25 \
      "$b/bin/kernel_tests_cuda" --gtest_brief=1 --gtest_filter="$sanitize_filter"
  fi
done

if [[ -z $cudnn_path ]]; then
  skip cudnn_tests "no cuDNN 9 on this machine"
  skip bench_cudnn "no cuDNN 9 on this machine"
else
  step cudnn_tests env LD_LIBRARY_PATH="$cudnn_path" "$b/bin/cudnn_tests" --gtest_brief=1 "$(json cudnn_tests)"
  step bench_cudnn env LD_LIBRARY_PATH="$cudnn_path" "$b/bin/engine_bench" --benchmark_filter="$cudnn_filter" \
    "${bench_args[@]}" --benchmark_out="$work/bench_cudnn.json" --benchmark_out_format=json
fi

# ---- the summary -------------------------------------------------------------------------------
rc=0
"${py:-python3}" "$bundle/gpu_summary.py" --work "$work" --out "$out" --gpu "$gpu" --cap "$cap" --driver "$driver" \
  --gpus "$gpus" --dry "$dry" --elapsed $(( $(date +%s) - start )) --budget "$budget" --timeouts "$total" \
  --commit "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)" \
  --bench-args "${bench_args[*]}" --manifest "$b/MANIFEST" --sanitize-filter "$sanitize_filter" || rc=$?
note "$(find "$out" -type f | wc -l) files in $out ($(( $(date +%s) - start )) s)"
echo
cat "$out/summary.md"
exit "$rc"
