#!/usr/bin/env bash
# Configures and builds guidingpainter in build/ (GPU targets too when nvcc exists).
# Extra CMake arguments: GP_CMAKE_ARGS="-DGP_PTXAS_VERBOSE=ON" scripts/build.sh
# Build arguments pass through: scripts/build.sh --target guidingpainter_cli
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# shellcheck disable=SC2086
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${GP_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$jobs" "$@"
