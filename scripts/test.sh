#!/usr/bin/env bash
# Builds everything and runs every test (on the CPU simulator when there is no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
