#!/usr/bin/env bash
# Creates (or reuses) the virtual environment that holds ONNX Runtime (CPU) for the ONNX
# export test (tests/onnx) and benchmark (bench/onnx_bench.py), and prints its python.
#
#   scripts/onnx_env.sh [DIR]        DIR defaults to build/onnx-venv (relative to the repo root)
#
# The venv sees Debian's system site packages (torch 1.13, numpy 1.24), so only
# onnxruntime and its small pure-Python dependencies are installed from PyPI. numpy is
# pinned below 2 by a constraint so that pip never installs numpy 2 over Debian's numpy
# (torch 1.13 is built against numpy 1.x). Progress goes to stderr; stdout is only the
# python path, so CI can write: PY=$(scripts/onnx_env.sh)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build/onnx-venv}"
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
# The onnxruntime release this was checked with; override with GP_ORT_SPEC.
spec="${GP_ORT_SPEC:-onnxruntime==1.32.0}"

py="$dir/bin/python"
if [[ ! -x "$py" ]]; then
    echo "onnx_env: creating $dir" >&2
    /usr/bin/python3 -m venv --system-site-packages "$dir" >&2
fi
if ! "$py" -c "import onnxruntime, numpy, torch; assert numpy.__version__.startswith('1.')" 2>/dev/null; then
    constraints="$dir/constraints.txt"
    echo "numpy<2" > "$constraints"
    echo "onnx_env: installing $spec (constraint numpy<2)" >&2
    "$py" -m pip install --disable-pip-version-check --no-input -q -c "$constraints" "$spec" >&2
    "$py" -c "import onnxruntime, numpy, torch; assert numpy.__version__.startswith('1.'), numpy.__version__" >&2
fi
echo "$py"
