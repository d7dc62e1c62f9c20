#!/usr/bin/env bash
# Applies .clang-format to the project's C, C++ and CUDA sources (clang-format 14,
# Debian's clang-format), or with --check lists the files it would change and fails.
# Left as written: inline PTX, which scripts/sim_rewrite.py parses (kernels/mma_ptx.cuh,
# the simulator's PTX header and its conformance sources), the context switch's
# assembly, and stb's configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
keep='^(kernels/mma_ptx\.cuh|src/sim/include/gpusim/ptx\.h|src/sim/context_switch\.cpp|tests/sim/tensor_core_conformance\.cu|tests/sim/tile_gemm\.cuh|tests/simcc/.*|src/image/stb(\.h|_impl\.cpp))$'
mapfile -t files < <(git ls-files '*.c' '*.cpp' '*.h' '*.hpp' '*.cu' '*.cuh' | grep -Ev "$keep")
if [[ ${1:-} == --check ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format "$f" | cmp -s - "$f"; then echo "$f"; bad=1; fi
  done
  exit $bad
fi
clang-format -i "${files[@]}"
