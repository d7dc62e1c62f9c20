#!/usr/bin/env bash
# Creates (or reuses) the virtual environment that holds cuobjdump and nvdisasm from PyPI
# (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm) for tools/sass_report.py, and prints the
# directory that holds both executables.
#
#   scripts/sass_env.sh [DIR]        DIR defaults to build/sass-venv (relative to the repo root)
#
# The toolkit that nvcc comes from here (the apt cuda-nvcc package) has no cuobjdump or
# nvdisasm, so the PyPI wheels are the way to read the cubins. Only when they cannot be
# installed (no PyPI) does this fall back to a toolkit's /usr/local/cuda/bin, where that has
# both; stderr says which was used. Progress goes to stderr; stdout is only the directory,
# so CI can write: SASS_BIN=$(scripts/sass_env.sh)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build/sass-venv}"
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
# The releases this was checked with; override with GP_SASS_SPEC. The counts do not depend
# on the release (they come from the cubin), but a pinned one prints the same text every time.
spec="${GP_SASS_SPEC:-nvidia-cuda-cuobjdump==13.5.37 nvidia-cuda-nvdisasm==13.5.37}"

# The wheels put the executables under site-packages/nvidia/<cuXX or package>/bin; the
# layout has changed between CUDA releases, so look for them instead of naming the path.
find_bin() {
    local d
    [[ -d "$dir/lib" ]] || return 1
    while IFS= read -r d; do
        if [[ -x "$d/cuobjdump" && -x "$d/nvdisasm" ]]; then
            echo "$d"
            return 0
        fi
    done < <(find "$dir/lib" -path "*/site-packages/nvidia/*" -name cuobjdump -type f -printf '%h\n' 2>/dev/null | sort)
    return 1
}

fallback() {
    local cuda=/usr/local/cuda/bin
    if [[ -x "$cuda/cuobjdump" && -x "$cuda/nvdisasm" ]]; then
        echo "sass_env: $1; using the toolkit's $cuda/cuobjdump and nvdisasm instead of PyPI's" >&2
        echo "$cuda"
        exit 0
    fi
    echo "sass_env: $1, and $cuda has no cuobjdump + nvdisasm" >&2
    exit 1
}

if ! bin=$(find_bin) || ! "$bin/cuobjdump" --version >/dev/null 2>&1; then
    py="$dir/bin/python"
    if [[ ! -x "$py" ]]; then
        echo "sass_env: creating $dir" >&2
        /usr/bin/python3 -m venv "$dir" >&2 || fallback "could not create the venv $dir"
    fi
    echo "sass_env: installing $spec" >&2
    # shellcheck disable=SC2086  # the spec is a list of requirements
    "$py" -m pip install --disable-pip-version-check --no-input -q $spec >&2 \
        || fallback "pip could not install $spec"
    bin=$(find_bin) || fallback "no cuobjdump + nvdisasm inside the installed wheels"
fi
echo "sass_env: cuobjdump $("$bin/cuobjdump" --version | grep -o "V[0-9][0-9.]*" | head -n 1) from PyPI in $bin" >&2
echo "$bin"
