#!/usr/bin/env bash
# Build one libFuzzer target with clang-14 and run it for a while on its seed corpus.
#
# usage: scripts/fuzz.sh NAME SECONDS        e.g. scripts/fuzz.sh safetensors 60
#
# Configures build-fuzz/ (CC=clang-14 CXX=clang++-14 -DGP_FUZZ=ON -DGP_CUDA=OFF), builds
# only fuzz_NAME, and runs it with the checked-in seeds tests/fuzz/corpus/NAME (read
# only) plus a working corpus build-fuzz/corpus/NAME that keeps what the fuzzer finds
# between runs. Crash inputs land in build-fuzz/artifacts/NAME/; the exit status is the
# fuzzer's (non-zero on a crash, leak, sanitizer report or timeout).
# Environment: GP_FUZZ_JOBS (build parallelism, default 2), GP_FUZZ_BUILD_DIR.
set -euo pipefail

if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 NAME SECONDS   (e.g. $0 safetensors 60)" >&2
  exit 2
fi
name=$1
seconds=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GP_FUZZ_BUILD_DIR:-$root/build-fuzz}
seeds=$root/tests/fuzz/corpus/$name
target=fuzz_$name

if [[ ! -d "$seeds" ]]; then
  echo "$0: no seed corpus $seeds (known targets: $(ls "$root/tests/fuzz/corpus" | tr '\n' ' '))" >&2
  exit 2
fi

mkdir -p "$build"
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGP_FUZZ=ON -DGP_CUDA=OFF -DGP_BENCH=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" --target "$target" -j "${GP_FUZZ_JOBS:-2}"

work=$build/corpus/$name
artifacts=$build/artifacts/$name
mkdir -p "$work" "$artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$artifacts/")
if [[ -f "$root/tests/fuzz/$name.dict" ]]; then
  args+=(-dict="$root/tests/fuzz/$name.dict")
fi
echo "fuzzing $target for ${seconds}s: corpus $work + seeds $seeds, crashes to $artifacts/"
exec "$build/tests/fuzz/$target" "${args[@]}" "$work" "$seeds"
