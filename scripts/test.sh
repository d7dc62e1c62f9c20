#!/usr/bin/env bash
# Builds everything and runs every test (on the CPU simulator when there is no GPU),
# then says how many tests were skipped and why (tools/skip_summary.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
rc=0
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@" || rc=$?
/usr/bin/python3 tools/skip_summary.py build/Testing/Temporary/LastTest.log || true
exit "$rc"
